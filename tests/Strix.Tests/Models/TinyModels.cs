using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

/// <summary>Small models for fast tests, at the narrow scale the Ultralytics fixtures use.</summary>
public static class TinyModels
{
    /// <summary>depth 0.33, width 1/32: channels 8…32, as in Fixtures/ultralytics/make_fixtures.py.</summary>
    public static readonly YoloScale Tiny = new("t", 0.33, 0.03125, 1024);

    /// <summary>A tiny model whose batch norms hold non-trivial running statistics, in eval mode.</summary>
    public static DetectionModel WithStatistics(int nc = 3, int seed = 0)
    {
        manual_seed(seed);
        var m = new DetectionModel(Tiny, nc);
        m.train();
        using (no_grad())
            for (int i = 0; i < 2; i++)
            {
                using var x = rand(2, 3, 64, 64);
                foreach (var t in m.forward(x)) t.Dispose();
            }
        m.eval();
        return m;
    }

    public static float MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var d = (a - b).abs().max();
        return d.item<float>();
    }
}
