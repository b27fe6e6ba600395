using Strix.Data;
using Strix.Eval;
using Strix.Export;
using Strix.Inference;
using Strix.IO.Onnx;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

/// <summary>NMS in the graph (nms=true) against Strix's own NMS on the same weights and images.</summary>
public class NmsExportTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-nms-export");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static readonly string[] Names = { "a", "b", "c" };

    (OnnxRuntimeBackend Raw, OnnxRuntimeBackend Nms) Pair(OnnxExportOptions o, string tag)
    {
        using var m = ExportTestModels.Make(nc: 3, seed: 4);
        string raw = Path.Combine(_dir, $"{tag}-raw.onnx"), nms = Path.Combine(_dir, $"{tag}-nms.onnx");
        OnnxExporter.Export(m, raw, o with { Names = Names });
        OnnxExporter.Export(m, nms, o with { Names = Names, Nms = true });
        return (OnnxRuntimeBackend.Open(raw), OnnxRuntimeBackend.Open(nms));
    }

    static Tensor Images(int batch, int size, int seed)
    {
        manual_seed(seed);
        return rand(batch, 3, size, size);
    }

    /// <summary>Every image's rows of the graph's output equal our NMS's detections, in order; the rest are zero.</summary>
    static void AssertSame(Tensor graph, Tensor raw, float conf, float iou, int maxDet)
    {
        var ours = Nms.NonMaxSuppression(raw, new NmsOptions { Conf = conf, Iou = iou, MaxDet = maxDet });
        try
        {
            Assert.Equal(new long[] { raw.shape[0], maxDet, 6 }, graph.shape);
            for (int i = 0; i < ours.Length; i++)
            {
                long n = ours[i].shape[0];
                using var head = graph[i].narrow(0, 0, n);
                Assert.True(TinyModelsDiff(head, ours[i]) < 1e-3, $"image {i}: graph rows differ from Strix's NMS ({n} detections)\ngraph:\n{Rows(graph[i].narrow(0, 0, Math.Min(maxDet, n + 2)))}\nours:\n{Rows(ours[i])}");
                if (n < maxDet)
                {
                    using var rest = graph[i].narrow(0, n, maxDet - n);
                    Assert.Equal(0f, rest.abs().max().item<float>());
                }
            }
        }
        finally { foreach (var d in ours) d.Dispose(); }
    }

    static string Rows(Tensor t) => string.Join("\n", Enumerable.Range(0, (int)t.shape[0]).Select(r => string.Join(" ", Strix.Runtime.TensorArrays.Floats(t[r]).Select(v => v.ToString("F3")))));

    static float TinyModelsDiff(Tensor a, Tensor b) => a.numel() == 0 && b.numel() == 0 ? 0 : (a - b).abs().max().item<float>();

    /// <summary>
    /// The subgraph alone on synthetic outputs whose scores are all distinct (a random network scores many boxes
    /// identically, and NMS then depends on how ties are ordered): exact agreement, per image, in order.
    /// </summary>
    [Theory]
    [InlineData(1, 17, 0.25f, 0.7f, 300)]
    [InlineData(3, 13, 0.25f, 0.5f, 15)]     // max_det below an image's detections: each keeps its best 15
    [InlineData(2, 18, 0.6f, 0.45f, 300)]    // opset 18: ReduceMax takes its axes as an input
    [InlineData(2, 17, 0.999f, 0.7f, 300)]   // nothing above conf: all rows zero
    public void The_nms_subgraph_equals_strix_nms(int batch, int opset, float conf, float iou, int maxDet)
    {
        const int nc = 4, anchors = 500;
        var b = new OnnxGraphBuilder(OnnxDataType.Float, opset, "nms");
        b.Input("raw", new TensorShapeProto(new long[] { -1, 4 + nc, -1 }, new[] { "batch", null, "anchors" }));
        b.Rename(OnnxNms.Emit(b, "raw", nc, maxDet, conf, iou), "dets");
        b.Output("dets", new TensorShapeProto(new long[] { -1, maxDet, 6 }, new[] { "batch", null, null }));
        var model = new ModelProto { IrVersion = 8, ProducerName = "strix", Graph = b.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto("", opset));
        var path = Path.Combine(_dir, $"sub{batch}-{opset}-{maxDet}.onnx");
        model.Save(path);

        manual_seed(batch * 100 + opset);
        using var xy = rand(batch, 2, anchors) * 200;
        using var wh = rand(batch, 2, anchors) * 60 + 4;
        using var scores = rand(batch, nc, anchors);               // continuous: no ties
        using var raw = cat(new[] { xy, wh, scores }, 1);
        var values = Strix.Runtime.TensorArrays.Floats(raw);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(values, new long[] { batch, 4 + nc, anchors });
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), new[] { "raw" }, new[] { input }, new[] { "dets" });
        using var graph = tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray(), new long[] { batch, maxDet, 6 });
        AssertSame(graph, raw, conf, iou, maxDet);
    }

    [Theory]
    [InlineData(false, 2, 0.3f, 0.5f, 300)]
    public void The_graph_s_nms_equals_strix_nms_per_image(bool dynamic, int batch, float conf, float iou, int maxDet)
    {
        var o = new OnnxExportOptions { ImageSize = 96, Batch = batch, Dynamic = dynamic, Conf = conf, Iou = iou, MaxDet = maxDet };
        var (raw, nms) = Pair(o, $"d{dynamic}");
        using (raw) using (nms)
        {
            Assert.True(nms.NmsInGraph);
            Assert.False(raw.NmsInGraph);
            using var x = Images(batch, 96, 1);
            using var rawOut = raw.Forward(x);
            using var graphOut = nms.Forward(x);
            using var _ = no_grad();
            // The random model scores many anchors above conf, so NMS has real work (and max_det binds when small).
            var ours = Nms.NonMaxSuppression(rawOut, new NmsOptions { Conf = conf, Iou = iou, MaxDet = maxDet });
            Assert.Contains(ours, d => d.shape[0] > 3);
            foreach (var d in ours) d.Dispose();
            AssertSame(graphOut, rawOut, conf, iou, maxDet);
        }
    }

    [Fact]
    public void Nothing_above_conf_gives_all_zero_rows()
    {
        var (raw, nms) = Pair(new OnnxExportOptions { ImageSize = 64, Batch = 2, Conf = 0.999f }, "empty");
        using (raw) using (nms)
        {
            using var x = Images(2, 64, 2);
            using var graphOut = nms.Forward(x);
            Assert.Equal(new long[] { 2, 300, 6 }, graphOut.shape);
            Assert.Equal(0f, graphOut.abs().max().item<float>());
        }
    }

    [Fact]
    public void The_predictor_reads_the_graph_s_rows_above_its_conf_in_original_pixels()
    {
        var (raw, nms) = Pair(new OnnxExportOptions { ImageSize = 96, Batch = 1, Conf = 0.3f }, "predict");
        using (raw) using (nms)
        {
            // 192×128 original → letterbox ratio 0.5, 16 px of padding top and bottom in the 96×96 input.
            var image = RgbImage.Filled(192, 128, 90, 140, 200);
            var options = new PredictOptions { Conf = 0.35, ImgSz = 96 };
            var got = new Predictor(nms, new DetectionPostprocessor(options), options).Predict(new[] { image }).Single();
            var boxed = Letterbox.Apply(image, 96, 96, auto: false, stride: 32);   // the fixed-shape export: full letterbox
            Assert.Equal((0.5, 16.0), (boxed.RatioW, boxed.PadH));
            using var x = Predictor.ToTensor(new[] { boxed.Image }, CPU);
            using var rows = nms.Forward(x);
            var v = Strix.Runtime.TensorArrays.Floats(rows);
            var expected = Enumerable.Range(0, 300).Where(k => v[k * 6 + 4] > 0.35f).ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected.Count, got.Detections.Count);
            for (int j = 0; j < expected.Count; j++)
            {
                int o = expected[j] * 6;
                var d = got.Detections[j];
                Assert.Equal(v[o + 4], d.Confidence, 5);
                Assert.Equal((int)v[o + 5], d.ClassId);
                Assert.Equal(Math.Clamp(v[o] * 2, 0, 192), d.Box.X1, 2);
                Assert.Equal(Math.Clamp((v[o + 3] - 16) * 2, 0, 128), d.Box.Y2, 2);
            }
        }
    }

    [Fact]
    public void The_export_is_checked_and_marked_and_bad_settings_are_named()
    {
        using var m = ExportTestModels.Make(nc: 3);
        var path = Path.Combine(_dir, "meta.onnx");
        OnnxExporter.Export(m, path, new OnnxExportOptions { ImageSize = 64, Names = Names, Nms = true, MaxDet = 50 });
        var proto = ModelProto.Load(path);
        Assert.Equal("True", proto.GetMetadata("nms"));
        Assert.Equal("50", proto.GetMetadata("max_det"));
        Assert.Contains(proto.Graph!.Node, n => n.OpType == "NonMaxSuppression");
        Assert.Contains("iou", Assert.Throws<ArgumentException>(() => OnnxExporter.Build(m, new OnnxExportOptions { ImageSize = 64, Nms = true, Iou = 0 })).Message);
        using var seg = Strix.Models.DetectionModel.Create("yolov8n-seg", 2);
        Assert.Contains("segmentation", Assert.Throws<NotSupportedException>(() => OnnxExporter.Build(seg, new OnnxExportOptions { ImageSize = 64, Nms = true })).Message);
    }
}
