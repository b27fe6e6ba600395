using Strix.Models;
using Strix.Models.Architecture;
using Strix.Nn;
using static TorchSharp.torch;

namespace Strix.Tests.Models.Architecture;

/// <summary>The built-in architectures against the sizes Ultralytics prints for them.</summary>
public class BuiltinModelTests
{
    [Theory]
    [InlineData("yolo11n", 2_624_080L, 6.6)]
    [InlineData("yolo11s", 9_458_752L, 21.7)]
    [InlineData("yolo11m", 20_114_688L, 68.5)]
    [InlineData("yolo11l", 25_372_160L, 87.6)]
    [InlineData("yolo11x", 56_966_176L, 196.0)]
    public void Yolo11_sizes_equal_Ultralytics(string name, long parameters, double gflops)
    {
        using var m = DetectionModel.Create(name, 80);
        Assert.Equal(parameters, m.ParameterCount());
        // Ultralytics' published GFLOPs at 640 are one decimal; the convolutions and norms give them exactly.
        Assert.Equal(gflops, Math.Round(ModelProfiler.GFlops(m, 640, 640), 1));
    }

    [Theory]
    [InlineData("yolov8n", 8.9)]
    [InlineData("yolov8s", 28.8)]
    public void Yolov8_from_the_builtin_file_keeps_its_GFLOPs(string name, double gflops)
    {
        using var m = DetectionModel.Create(name, 80);
        Assert.Equal(gflops, Math.Round(ModelProfiler.GFlops(m, 640, 640), 1));
    }

    [Theory]
    [InlineData("yolov8n-p6", 4_976_656L)]
    [InlineData("yolov8s-p6", 17_897_168L)]
    public void Yolov8_p6_fused_sizes_equal_Ultralytics(string name, long fusedParameters)
    {
        using var m = DetectionModel.Create(name, 80);
        Assert.Equal(new float[] { 8, 16, 32, 64 }, m.Strides);
        m.Fuse();
        Assert.Equal(fusedParameters, m.ParameterCount());
    }

    [Fact]
    public void Yolov8_p2_has_a_stride_4_output_and_runs()
    {
        using var m = DetectionModel.Create("yolov8n-p2", 3);
        Assert.Equal(new float[] { 4, 8, 16, 32 }, m.Strides);
        m.eval();
        using var x = rand(1, 3, 64, 96);
        var raw = m.forward(x);
        Assert.Equal(new[] { 16L, 8, 4, 2 }, raw.Select(r => r.shape[2]).ToArray());
        Assert.All(raw, r => Assert.Equal(64 + 3, r.shape[1]));
        foreach (var r in raw) r.Dispose();
        using var y = m.Predict(x);
        Assert.Equal(16 * 24 + 8 * 12 + 4 * 6 + 2 * 3, y.shape[2]);
    }

    [Fact]
    public void Yolo11_head_uses_depthwise_separable_class_branches_and_v8_keeps_plain_ones()
    {
        using var v11 = DetectionModel.Create("yolo11n", 80);
        using var v8 = DetectionModel.Create("yolov8n", 80);
        Assert.False(v11.Head.Legacy);
        Assert.True(v8.Head.Legacy);
        var names = v11.state_dict().Keys.ToHashSet();
        Assert.Contains("model.23.cv3.0.0.0.conv.weight", names); // DWConv 3×3
        Assert.Contains("model.23.cv3.0.0.1.conv.weight", names); // Conv 1×1
        Assert.Contains("model.23.cv3.0.2.weight", names);
        Assert.Contains("model.10.m.0.attn.qkv.conv.weight", names);
        Assert.Contains("model.10.m.0.ffn.1.bn.running_var", names);
        Assert.Contains("model.2.m.0.cv1.conv.weight", names);
        // The depth-wise conv has one group per channel: its weight is [c, 1, 3, 3].
        Assert.Equal(new long[] { 64, 1, 3, 3 }, v11.state_dict()["model.23.cv3.0.0.0.conv.weight"].shape);
    }

    [Theory]
    [InlineData("n", false)]
    [InlineData("s", false)]
    [InlineData("m", true)]
    [InlineData("l", true)]
    public void C3k2_uses_C3k_blocks_from_the_m_scale_on(string scale, bool c3k)
    {
        var spec = ModelCatalog.Yolo11;
        using var m = new DetectionModel(spec, spec.ScaleFor(scale), 80);
        var stem = (C3k2)m.Layers[2].Module; // the row says c3k=False
        Assert.Equal(c3k, stem.UsesC3k);
        Assert.Equal(c3k, stem.m[0] is C3k);
        Assert.True(((C3k2)m.Layers[6].Module).UsesC3k); // the row says True
    }

    [Fact]
    public void Yolo11n_forward_gives_three_levels_with_the_class_count()
    {
        using var m = DetectionModel.Create("yolo11n", 4);
        m.eval();
        using var x = rand(2, 3, 64, 64);
        var raw = m.forward(x);
        Assert.Equal(new[] { 8L, 4, 2 }, raw.Select(r => r.shape[2]).ToArray());
        Assert.All(raw, r => Assert.Equal(new long[] { 2, 68 }, r.shape[..2]));
        foreach (var r in raw) r.Dispose();
    }

    [Theory]
    [InlineData("yolo11n", "yolo11", "n")]
    [InlineData("yolo11x.yaml", "yolo11", "x")]
    [InlineData("yolov8s", "yolov8", "s")]
    [InlineData("YOLOv8m-p2.yaml", "yolov8-p2", "m")]
    [InlineData("yolov8l-p6", "yolov8-p6", "l")]
    [InlineData("n", "yolov8", "n")]
    public void Names_resolve_to_a_family_and_scale(string name, string family, string scale)
    {
        Assert.True(ModelCatalog.TryResolve(name, out var spec, out var s));
        Assert.Equal(family, spec.Name);
        Assert.Equal(scale, s.Name);
    }

    [Theory]
    [InlineData("yolo11")]      // no scale
    [InlineData("yolo12n")]     // not built in
    [InlineData("yolo11n.pt")]  // weights, not an architecture
    [InlineData("yolov8z")]
    public void Other_names_do_not_resolve(string name) => Assert.False(ModelCatalog.TryResolve(name, out _, out _));

    [Fact]
    public void Names_and_display_names_follow_Ultralytics()
    {
        using var a = DetectionModel.Create("yolo11s", 2);
        using var b = DetectionModel.Create("yolov8n-p2", 2);
        Assert.Equal(("yolo11s", "YOLO11s"), (a.Name, a.DisplayName));
        Assert.Equal(("yolov8n-p2", "YOLOv8n-p2"), (b.Name, b.DisplayName));
    }

    [Fact]
    public void Yolov8_rebuilt_from_yaml_has_the_hand_table_names_and_shapes()
    {
        // The layer-by-layer summary Ultralytics prints for yolov8n (from, repeats, module, arguments).
        using var m = DetectionModel.Create("yolov8n", 80);
        var rows = m.Layers.Select(l => $"{string.Join(",", l.From)}|{l.Repeats}|{l.Type}|{l.Arguments}").ToArray();
        Assert.Equal("-1|1|Conv|[3, 16, 3, 2]", rows[0]);
        Assert.Equal("-1|1|C2f|[32, 32, 1, True]", rows[2]);
        Assert.Equal("-1|1|SPPF|[256, 256, 5]", rows[9]);
        Assert.Equal("-1|1|Upsample|[None, 2, 'nearest']", rows[10]);
        Assert.Equal("-1,6|1|Concat|[1]", rows[11]);
        Assert.Equal("-1|1|C2f|[384, 128, 1]", rows[12]);
        Assert.Equal("15,18,21|1|Detect|[80, [64, 128, 256]]", rows[22]);
    }

    [Theory]
    [InlineData("yolov8")]
    [InlineData("yolo11")]
    [InlineData("yolov8-p2")]
    [InlineData("yolov8-p6")]
    public void A_models_own_yaml_text_rebuilds_the_same_table(string family)
    {
        var spec = ModelCatalog.Builtin(family);
        using var a = new DetectionModel(spec, spec.ScaleFor("n"), 7);
        var (again, letter) = ModelYaml.Parse(a.Spec.Text, "copy.yaml", a.Name); // yolov8n, yolov8n-p2 …
        Assert.Equal("n", letter);
        using var b = new DetectionModel(again, again.ScaleFor(letter), 7);
        Assert.Equal(ModelSummary.Table(a), ModelSummary.Table(b));
        Assert.Equal(a.state_dict().Select(kv => (kv.Key, string.Join("x", kv.Value.shape))), b.state_dict().Select(kv => (kv.Key, string.Join("x", kv.Value.shape))));
    }
}
