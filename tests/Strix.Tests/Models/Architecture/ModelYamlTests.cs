using Strix.Models;
using Strix.Models.Architecture;
using Strix.Nn;
using static TorchSharp.torch;

namespace Strix.Tests.Models.Architecture;

/// <summary>The model YAML reader and builder: a user's own file, and clear errors for bad ones.</summary>
public class ModelYamlTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-yaml");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>A small two-level YOLO11-style detector as a user would write it.</summary>
    internal const string Custom = """
        nc: 6
        scales:
          n: [0.50, 0.125, 256]
          s: [1.00, 0.25, 256]
        scale: n
        backbone:
          - [-1, 1, Conv, [64, 3, 2]]
          - [-1, 1, Conv, [128, 3, 2]]
          - [-1, 2, C3k2, [256, False, 0.25]]
          - [-1, 1, Conv, [256, 3, 2]]          # 3: stride 8
          - [-1, 2, C3k2, [256, False, 0.25]]   # 4
          - [-1, 1, Conv, [512, 3, 2]]          # 5: stride 16
          - [-1, 1, SPPF, [512, 5]]
          - [-1, 1, C2PSA, [512]]               # 7
        head:
          - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
          - [[-1, 4], 1, Concat, [1]]
          - [-1, 1, C3k2, [256, False]]         # 10: stride 8
          - [-1, 1, Conv, [256, 3, 2]]
          - [[-1, 7], 1, Concat, [1]]
          - [-1, 1, C3k2, [512, True]]          # 13: stride 16
          - [[10, -1], 1, Detect, [nc]]
        """;

    string Write(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void A_users_file_builds_with_its_scale_key_strides_and_channels()
    {
        var path = Write("bolts.yaml", Custom);
        using var loaded = ModelLoader.Load(path);
        var m = loaded.Model;
        Assert.Equal("bolts", m.Name);
        Assert.Equal("n", m.Scale.Name);
        Assert.Equal(6, m.NumClasses);          // nc from the file
        Assert.Equal(new float[] { 8, 16 }, m.Strides);
        Assert.False(m.Head.Legacy);            // C3k2 in the file: YOLO11's head
        Assert.Equal(new[] { 32, 32 }, m.Head.InChannels); // 256·0.125, and 512 capped at 256, ·0.125
        var psa = (C2PSA)m.Layers[7].Module;
        Assert.Equal(16, psa.Hidden);
        Assert.Single(psa.m);         // 2 · 0.5 repeats
        Assert.Equal(new[] { 10, -1 }, m.Layers[14].From);
        m.eval();
        using var x = rand(1, 3, 64, 96);
        using var y = m.Predict(x);
        Assert.Equal(new long[] { 1, 4 + 6, 8 * 12 + 4 * 6 }, y.shape);
    }

    [Fact]
    public void The_scale_in_the_file_name_wins_over_the_scale_key_and_nc_can_be_overridden()
    {
        var path = Write("bolts-v2.yaml", Custom); // no scale letter in the name → the scale key
        using (var a = ModelLoader.Load(path)) Assert.Equal("n", a.Model.Scale.Name);
        var named = Write("yolo11s-bolts.yaml", Custom);
        using var b = ModelLoader.Load(named, nc: 2);
        Assert.Equal("s", b.Model.Scale.Name);
        Assert.Equal("yolo11-bolts", b.Model.Spec.Name);
        Assert.Equal("yolo11s-bolts", b.Model.Name);
        Assert.Equal(2, b.Model.NumClasses);
    }

    [Fact]
    public void Weights_of_a_custom_architecture_round_trip_through_a_Strix_file()
    {
        using var loaded = ModelLoader.Load(Write("bolts.yaml", Custom));
        var m = loaded.Model;
        m.eval();
        var file = Path.Combine(_dir, "bolts.safetensors");
        WeightsFile.Save(m, file, ModelMetadata.For(m));
        File.Delete(Path.Combine(_dir, "bolts.yaml")); // the weights alone must suffice
        var (back, meta) = WeightsFile.Load(file);
        using (back)
        {
            Assert.Equal("bolts", meta.Architecture);
            Assert.Equal(Custom, meta.ModelYaml);
            Assert.Equal(m.Name, back.Name);
            Assert.Equal(m.state_dict().Keys, back.state_dict().Keys);
            using var x = rand(2, 3, 64, 64);
            using var a = m.Predict(x);
            using var b = back.Predict(x);
            Assert.True(a.eq(b).all().item<bool>());
        }
    }

    [Fact]
    public void Builtin_yolo11_round_trips_and_the_loader_resolves_it_without_files()
    {
        using var loaded = ModelLoader.Load("yolo11n", nc: 3);
        Assert.Equal("yolo11n", loaded.Model.Name);
        Assert.Equal(ModelCatalog.Yolo11, loaded.Model.Spec);
        var file = Path.Combine(_dir, "y11.safetensors");
        WeightsFile.Save(loaded.Model, file, loaded.Metadata);
        var (back, meta) = WeightsFile.Load(file);
        using (back)
        {
            Assert.Same(ModelCatalog.Yolo11, back.Spec); // the stored text is the built-in one
            Assert.Equal("yolo11", meta.Architecture);
            Assert.Equal(loaded.Model.ParameterCount(), back.ParameterCount());
        }
    }

    [Fact]
    public void Files_without_an_architecture_are_YOLOv8()
    {
        var meta = new ModelMetadata { Names = new[] { "a" }, Scale = YoloScale.N };
        Assert.Same(ModelCatalog.YoloV8, meta.ArchitectureSpec("old.safetensors"));
    }

    static string Error(string text, string name = "bad.yaml", int nc = 80)
    {
        var e = Assert.ThrowsAny<Exception>(() =>
        {
            var (spec, scale) = ModelYaml.Parse(text, name, Path.GetFileNameWithoutExtension(name));
            using var m = new DetectionModel(spec, spec.ScaleFor(scale), nc);
        });
        Assert.IsType<InvalidDataException>(e);
        return e.Message;
    }

    const string Head = """
        head:
          - [[2, 3], 1, Detect, [nc]]
        """;

    [Fact]
    public void An_unknown_module_is_named_with_its_file_line_and_row()
    {
        var msg = Error("""
            nc: 2
            backbone:
              - [-1, 1, Conv, [16, 3, 2]]
              - [-1, 1, Conv, [32, 3, 2]]
              - [-1, 1, GhostConv, [64, 3, 2]]
              - [-1, 1, Conv, [64, 3, 2]]
            """ + "\n" + Head);
        Assert.StartsWith("bad.yaml:5: layer 2 (GhostConv): unknown module 'GhostConv'", msg);
    }

    [Theory]
    [InlineData("  - [5, 1, Conv, [64, 3, 2]]", "bad.yaml:5: backbone layer 2: 'from' 5 does not name an earlier layer")]
    [InlineData("  - [-1, 0, Conv, [64, 3, 2]]", "bad.yaml:5: backbone layer 2: repeats must be a count from 1 to 64")]
    [InlineData("  - [-1, 1, Conv]", "bad.yaml:5: backbone layer 2: expected [from, repeats, module, args]")]
    [InlineData("  - [-1, 1, Conv, [64, three, 2]]", "bad.yaml:5: layer 2 (Conv): argument 1 must be a whole number (got 'three')")]
    [InlineData("  - [[-1, 0], 1, Concat, [1]]", "bad.yaml:5: layer 2 (Concat): concatenates maps of different strides (4, 2)")]
    [InlineData("  - [-1, 1, Conv, [99999, 3, 2]]", "bad.yaml:5: layer 2 (Conv): 25000 output channels is outside 1–16384")]
    [InlineData("  - [-1, 1, Conv, [64, 99, 2]]", "bad.yaml:5: layer 2 (Conv): argument 1 = 99 is outside 0–64")]
    [InlineData("  - [-1, 1, Conv, [64, 0, 2]]", "bad.yaml:5: layer 2 (Conv): Conv(8, 16): kernel 0, stride 2")]
    [InlineData("  - [-1, 1, Conv, [64, 3, 1, None, 0]]", "bad.yaml:5: layer 2 (Conv): Conv(8, 16): kernel 3, stride 1, padding auto, dilation 1, groups 0 are out of range")]
    [InlineData("  - [-1, 1, C2f, [64, True, 1, 0.0]]", "bad.yaml:5: layer 2 (C2f): expansion 0 must be in (0, 4]")]
    public void Bad_rows_are_refused_with_the_row_named(string row, string expected)
    {
        var msg = Error("nc: 2\nscales:\n  n: [0.33, 0.25, 100000]\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n".Replace("  - [-1, 1, Conv, [16, 3, 2]]\n",
            "  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [32, 3, 2]]\n" + row + "\n  - [-1, 1, Conv, [64, 3, 2]]\n") + Head, "bad.yaml");
        Assert.StartsWith(expected, msg.Replace("bad.yaml:6", "bad.yaml:5").Replace("bad.yaml:7", "bad.yaml:5"));
    }

    [Fact]
    public void Structural_errors_are_named()
    {
        Assert.Contains("bad.yaml: the model file has no 'head' section", Error("nc: 2\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n"));
        Assert.Contains("the last layer must be a head", Error("backbone:\n  - [-1, 1, Conv, [16, 3, 2]]\nhead:\n  - [-1, 1, Conv, [16, 3, 2]]\n"));
        Assert.Contains("C2PSA keeps its width", Error("backbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, C2PSA, [64]]\nhead:\n  - [[1], 1, Detect, [nc]]\n"));
        Assert.Contains("bad.yaml:2: scale 'n' must be [depth, width, max_channels]", Error("scales:\n  n: [0.5, 0.25]\nbackbone: []\nhead: []\n"));
        Assert.Contains("bad.yaml:2: invalid YAML", Error("backbone: [[-1, 1, Conv, [16, 3, 2]]]\nhead: ]\n"));
        Assert.StartsWith("bad.yaml", Error("backbone: [[-1, 1, Conv, [16, 3, 2]]\nhead: ]\n"));
        Assert.Contains("'activation' is not supported", Error("activation: nn.ReLU()\nbackbone: []\nhead: []\n"));
    }

    [Fact]
    public void A_convolution_larger_than_any_real_one_is_refused_before_it_is_allocated()
    {
        var msg = Error("nc: 2\nscales:\n  n: [1.0, 1.0, 100000]\nbackbone:\n  - [-1, 1, Conv, [4096, 1, 1]]\n  - [-1, 1, Conv, [4096, 3, 1]]\nhead:\n  - [[1], 1, Detect, [nc]]\n");
        Assert.StartsWith("bad.yaml:6: layer 1 (Conv): Conv(4096, 4096, k=3): 150994944 weights is more than any real network's convolution", msg);
    }

    [Fact]
    public void Old_style_multiples_build_without_a_channel_cap()
    {
        var (spec, scale) = ModelYaml.Parse("""
            nc: 1
            depth_multiple: 0.33
            width_multiple: 0.5
            backbone:
              - [-1, 1, Conv, [64, 6, 2, 2]]
              - [-1, 3, C3, [64]]
              - [-1, 1, Conv, [128, 3, 2]]
            head:
              - [[1, 2], 1, Concat, [1]]
            """, "v5.yaml", "v5");
        Assert.Null(scale);
        var s = spec.ScaleFor(scale);
        Assert.Equal((0.33, 0.5, int.MaxValue), (s.Depth, s.Width, s.MaxChannels));
        // Concat of stride 2 and stride 4 maps is refused even without a Detect.
        var e = Assert.Throws<InvalidDataException>(() => new DetectionModel(spec, s, 1));
        Assert.Contains("v5.yaml:9: layer 3 (Concat): concatenates maps of different strides (2, 4)", e.Message);
    }

    [Fact]
    public void Conv_padding_and_C3_follow_the_row()
    {
        var (spec, _) = ModelYaml.Parse("""
            nc: 1
            backbone:
              - [-1, 1, Conv, [32, 6, 2, 2]]
              - [-1, 1, C3, [32, False]]
              - [-1, 1, DWConv, [32, 3, 2]]
            head:
              - [[-1], 1, Detect, [nc]]
            """, "v5.yaml", "v5");
        using var m = new DetectionModel(spec, spec.ScaleFor(null), 1);
        var stem = (Conv)m.Layers[0].Module;
        Assert.Equal((6, 2, 2), (stem.Kernel, stem.Stride, stem.Padding));
        var c3 = (C3)m.Layers[1].Module;
        Assert.False(c3.m[0].HasShortcut);
        Assert.Equal(32, ((DWConv)m.Layers[2].Module).Groups);
        Assert.Equal(new float[] { 4 }, m.Strides);
        Assert.Equal("[32, 32, 1, False]", m.Layers[1].Arguments);
    }
}
