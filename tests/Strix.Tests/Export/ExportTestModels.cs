using Strix.Models;
using Strix.Models.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

/// <summary>Small detectors for export tests: yolov8n's depth at half its width, with non-trivial batch norms.</summary>
internal static class ExportTestModels
{
    /// <summary>yolov8n depth, width 0.125: about 0.4 M parameters, so exports and runs take milliseconds.</summary>
    public static readonly YoloScale Tiny = new("t", 0.33, 0.125, 1024);

    /// <summary>A model in eval mode whose batch norms have random statistics and affine terms, so folding them matters.</summary>
    public static DetectionModel Make(int nc = 3, long seed = 0, YoloScale? scale = null, ModelSpec? spec = null)
    {
        manual_seed(seed);
        var m = new DetectionModel(spec ?? ModelCatalog.YoloV8, scale ?? Tiny, nc);
        using (no_grad())
            foreach (var bn in m.modules().OfType<BatchNorm2d>())
            {
                bn.running_mean!.copy_(randn_like(bn.running_mean) * 0.2);
                bn.running_var!.copy_(rand_like(bn.running_var) + 0.5);
                bn.weight!.copy_(rand_like(bn.weight) + 0.5);
                bn.bias!.copy_(randn_like(bn.bias) * 0.2);
            }
        // Spread the class scores over (0, 1) instead of the tiny prior, so score parity is tested too.
        using (no_grad())
            foreach (var seq in m.Head.cv3)
                ((Conv2d)seq[2]).bias!.copy_(randn_like(((Conv2d)seq[2]).bias!));
        m.eval();
        return m;
    }

    /// <summary>
    /// Sets every batch norm's running statistics to those of <paramref name="images"/> (a cumulative
    /// average over one train-mode pass), so activations keep their spread through the depth of the
    /// network and outputs depend on the picture, as in a trained model, instead of collapsing to the biases.
    /// </summary>
    public static void Calibrate(DetectionModel m, Tensor images)
    {
        var bns = m.modules().OfType<BatchNorm2d>().ToList();
        foreach (var bn in bns) { bn.reset_running_stats(); bn.momentum = null; }
        m.train();
        using (no_grad()) foreach (var t in m.forward(images)) t.Dispose();
        foreach (var bn in bns) bn.momentum = 0.03;
        m.eval();
    }

    /// <summary>The fused TorchSharp reference output for <paramref name="x"/>, computed on a fused copy of the weights (or the model itself when already fused).</summary>
    public static Tensor FusedPredict(DetectionModel model, Tensor x)
    {
        if (model.IsFused)
        {
            using var __ = no_grad();
            model.eval();
            return model.Predict(x);
        }
        using var copy = model.WithClasses(model.NumClasses);
        copy.load_state_dict(model.state_dict());
        copy.eval();
        copy.Fuse();
        using var _ = no_grad();
        return copy.Predict(x);
    }

    public static float MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var d = (a.to_type(ScalarType.Float32) - b.to_type(ScalarType.Float32)).abs().max();
        return d.item<float>();
    }
}
