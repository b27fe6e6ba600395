using System.Diagnostics;
using System.Globalization;
using Strix.Config;
using Strix.Export;
using Strix.Models;
using Strix.Models.Architecture;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix export model=best.safetensors format=onnx imgsz=640 dynamic=False half=False opset=17</c>:
/// writes an ONNX detector in Ultralytics' layout beside the weights (or <c>output=</c>).
/// </summary>
public sealed class ExportCommand : ICommand
{
    public string Name => "export";
    public string Summary => "export a model to ONNX: model=best.safetensors format=onnx (imgsz dynamic half opset batch output)";

    public int Run(IReadOnlyList<string> args)
    {
        var c = ConfigRecords.Parse<ExportConfig>(args);
        var (modelArg, imgszList, dynamic, half, opset, batch) = (c.Model!, c.ImgSz, c.Dynamic, c.Half, c.Opset, c.Batch);
        var (nc, simplify, output) = (c.Nc, c.Simplify, c.Output);
        var path = output ?? DefaultOutput(modelArg);
        if (File.Exists(modelArg) && Path.GetFullPath(path) == Path.GetFullPath(modelArg))
            throw new ArgumentException($"exporting '{modelArg}' would overwrite it; pass output=other.onnx");

        var sw = Stopwatch.StartNew();
        using var loaded = ModelLoader.Load(modelArg, nc, Console.WriteLine);
        var model = loaded.Model;
        int askedH = imgszList?[0] ?? loaded.Metadata.ImgSz, askedW = imgszList?[^1] ?? loaded.Metadata.ImgSz;
        int h = StrideMultiple(askedH, model.MaxStride), w = StrideMultiple(askedW, model.MaxStride);
        if (h != askedH || w != askedW)
            Console.WriteLine($"WARNING ⚠️ imgsz={(askedH == askedW ? askedH : $"[{askedH}, {askedW}]")} must be a multiple of max stride {model.MaxStride}, updating to {(h == w ? h : $"[{h}, {w}]")}");
        var options = new OnnxExportOptions
        {
            Height = h, Width = w, Batch = batch, Dynamic = dynamic, Half = half, Opset = opset, Names = loaded.Metadata.Names,
            Nms = c.Nms, Conf = (float)c.Conf, Iou = (float)c.Iou, MaxDet = c.MaxDet,
        };
        OnnxExporter.Validate(model, options);
        long anchors = model.Strides.Sum(s => (long)(h / s) * (long)(w / s));
        string shapeIn = dynamic ? "(batch, 3, height, width)" : $"({batch}, 3, {h}, {w})";
        bool classifier = model.Task == "classify";
        if (classifier && c.Int8) throw new NotSupportedException("int8=true quantises detection and segmentation exports; export the classifier in fp32 or fp16");
        // A -seg model adds its mask coefficients, a -pose model its keypoints, an -obb model its angle.
        int extra = classifier ? 0 : model.Head switch { Strix.Nn.Segment s => s.NumMasks, Strix.Nn.Pose p => p.KeypointOutputs, Strix.Nn.OBB o => o.NumExtra, _ => 0 };
        int rows = classifier ? 0 : 4 + model.NumClasses + extra;
        string shapeOut = classifier ? $"({(dynamic ? "batch" : batch)}, {model.NumClasses})"
            : c.Nms ? $"({(dynamic ? "batch" : batch)}, {c.MaxDet}, 6)"
            : dynamic ? $"(batch, {rows}, anchors)" : $"({batch}, {rows}, {anchors})";
        Console.WriteLine($"Strix export: starting from '{modelArg}' with input shape {shapeIn} BCHW and output shape {shapeOut}");
        Console.WriteLine($"ONNX: exporting with opset {opset}{(half ? ", fp16" : "")}{(dynamic ? ", dynamic axes" : "")}{(c.Nms ? $", NMS in the graph (conf {c.Conf}, iou {c.Iou}, max_det {c.MaxDet})" : "")}...");

        var exportWatch = Stopwatch.StartNew();
        OnnxExporter.Export(model, path, options);
        if (c.Int8) Quantize(c, path, h, w, model.MaxStride, c.Dynamic ? 8 : c.Batch);
        if (simplify) Console.WriteLine($"ONNX: simplifying with ONNX Runtime's basic graph optimisations: {OnnxSimplifier.Simplify(path)}");
        double secs = exportWatch.Elapsed.TotalSeconds;
        double mb = new FileInfo(path).Length / 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ONNX: export success ✅ {secs:F1}s, saved as '{path}' ({mb:F1} MB)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nExport complete ({sw.Elapsed.TotalSeconds:F1}s)"));
        Console.WriteLine($"Predict:  strix predict model={path} imgsz={Math.Max(h, w)}");
        Console.WriteLine($"Validate: strix val model={path} imgsz={Math.Max(h, w)} data=…");
        return 0;
    }

    /// <summary>Replaces the float32 export at <paramref name="path"/> by its INT8 (QDQ) form, calibrated on the data's val images.</summary>
    static void Quantize(ExportConfig c, string path, int h, int w, int stride, int batch)
    {
        var config = Strix.Data.DatasetConfig.Resolve(c.Data!, Console.WriteLine);
        var options = Strix.Data.DataLoaderOptions.ForValidation(Math.Max(h, w), batch, 0, rect: false) with { Stride = stride, Fraction = c.Fraction };
        using var loader = Strix.Data.DataLoader.Create(config, "val", options, m => Console.WriteLine($"WARNING ⚠️ {m}"));
        var method = c.Calibration == "percentile" ? CalibrationMethod.Percentile : CalibrationMethod.MinMax;
        var sw = Stopwatch.StartNew();
        var r = OnnxQuantizer.Quantize(path, path, CalibrationInputs.From(loader, batch), method);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ONNX: INT8 ({c.Calibration}) from {r.CalibrationImages} val images of {c.Data}: {r.QuantizedConvs} convolutions int8, {r.FloatConvs} kept float (the decode), {sw.Elapsed.TotalSeconds:F1}s"));
    }

    /// <summary>Beside the weights with the .onnx extension, as Ultralytics does; a built-in name exports to ./yolo11n.onnx.</summary>
    static string DefaultOutput(string modelArg) =>
        !File.Exists(modelArg) && ModelCatalog.TryResolve(modelArg, out var spec, out var scale)
            ? spec.ModelName(scale) + ".onnx"
            : Path.ChangeExtension(modelArg, ".onnx");

    /// <summary>Rounds a size up to a multiple of the stride, as Ultralytics' check_imgsz does.</summary>
    static int StrideMultiple(int size, int stride) =>
        size >= 1 ? (size + stride - 1) / stride * stride : throw new ArgumentException($"imgsz={size} must be positive");
}
