using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Strix.Config;
using Strix.Data;
using Strix.Engine;
using Strix.Eval;
using Strix.Export;
using Strix.Inference;
using Strix.IO;
using Strix.Models;
using Strix.Nn;
using Strix.Tasks;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Cli.Commands;

/// <summary>One format's figures in <see cref="BenchmarkCommand"/>'s table.</summary>
/// <param name="Format">What ran: backend, precision, NMS placement.</param>
/// <param name="SizeMb">The file a user would ship (TorchSharp: the weights file).</param>
/// <param name="Map">mAP50-95 of boxes on the data's val split; null where it cannot be measured (NMS in the graph).</param>
/// <param name="MaskMap">mAP50-95 of masks (segmentation models).</param>
/// <param name="Batch1">Latency per image at batch 1, p50 and p90, ms.</param>
/// <param name="BatchN">Latency per image at batch N, p50 and p90, ms.</param>
public sealed record BenchmarkRow(string Format, double SizeMb, double? Map, double? MaskMap, (double P50, double P90) Batch1, (double P50, double P90) BatchN);

/// <summary>
/// <c>strix benchmark model=best.safetensors data=shapes imgsz=640</c>: Ultralytics' <c>yolo benchmark</c> for the formats
/// this build runs — TorchSharp fp32 and bf16-mixed (fused), ONNX Runtime fp32, fp16, INT8 (calibrated on the same val
/// images) and fp32 with NMS in the graph — each
/// with its file size, mAP50-95 on the data's val split (the validation settings: conf 0.001, iou 0.7) and latency per
/// image at batch 1 and batch N, p50 and p90 of <c>runs</c> passes after three warm-up passes. Latency is the model plus
/// NMS at conf 0.25 (inside the graph for the NMS export), on a fixed random input, so every format does the same work;
/// letterboxing and decoding are not included. The table is printed and written as benchmark.csv and benchmark.json.
/// </summary>
public sealed class BenchmarkCommand : ICommand
{
    public string Name => "benchmark";
    public string Summary => "size, mAP50-95 and latency per format: benchmark model=best.safetensors data=shapes imgsz=640 (batch=8 runs=20)";

    /// <summary>The rows of the last <see cref="Run"/>.</summary>
    public IReadOnlyList<BenchmarkRow>? LastRows { get; private set; }

    public int Run(IReadOnlyList<string> args)
    {
        var c = ConfigRecords.Parse<BenchmarkConfig>(args);
        using var loaded = ModelLoader.Load(c.Model!, log: Console.WriteLine);
        var model = loaded.Model;
        if (model.Task == "classify")
            throw new NotSupportedException($"model={c.Model} is a classifier: benchmark measures detection and segmentation models (mAP); time a classifier with strix val and strix predict");
        model.eval();
        if (!model.IsFused) model.Fuse();
        bool segment = model.Task == "segment";
        int imgsz = ArgChecks.RoundToStride(c.ImgSz, model.MaxStride, Console.WriteLine);
        var config = DatasetConfig.Resolve(c.Data, Console.WriteLine);
        if (config.Nc != model.NumClasses)
            throw new ArgumentException($"model={c.Model} has {model.NumClasses} classes but data={c.Data} has {config.Nc}; benchmark on a dataset with the model's classes");
        var dir = RunDirectory.Create(c.Project, c.Name, c.ExistOk, withWeights: false);
        void Warn(string m) => Console.WriteLine($"WARNING ⚠️ {m}");
        var loaderOptions = DataLoaderOptions.ForValidation(imgsz, 32, c.Workers, rect: false) with { Stride = model.MaxStride, Segments = segment };
        using var loader = DataLoader.Create(config, "val", loaderOptions, Warn);
        Console.WriteLine($"benchmark: {model.DisplayName} at imgsz={imgsz} on {loader.Dataset.Count} val images of {c.Data}; latency at batch 1 and {c.Batch}, {c.Runs} runs each");

        var names = loaded.Metadata.Names;
        DetectionValidator NewValidator() => segment
            ? new Strix.Tasks.Segment.SegmentationValidator(config.Names, new ValidatorOptions { Log = null, Plots = false })
            : new DetectionValidator(config.Names, new ValidatorOptions { Log = null, Plots = false });
        (double?, double?) Maps(ValidationResult r) => (r.Metrics.Map, r.Masks?.Map);
        double weightsMb = File.Exists(c.Model) ? new FileInfo(c.Model).Length / 1e6 : model.parameters().Sum(p => p.numel()) * 4 / 1e6;

        var rows = new List<BenchmarkRow>();
        void Add(BenchmarkRow r)
        {
            rows.Add(r);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Format}: {r.SizeMb:F1} MB, mAP50-95 {Fmt(r.Map)}{(segment ? $" (mask {Fmt(r.MaskMap)})" : "")}, {r.Batch1.P50:F1} ms/img at batch 1, {r.BatchN.P50:F1} at batch {c.Batch}"));
        }

        foreach (var bf16 in new[] { false, true })
        {
            using var cast = bf16 ? Autocast.Enable(ScalarType.BFloat16) : null;
            var (map, mask) = Maps(NewValidator().Run(model, loader));
            using var backend = new TorchBackend(model, names, imgsz);
            Add(new BenchmarkRow(bf16 ? "TorchSharp bf16-mixed" : "TorchSharp fp32", weightsMb, map, mask,
                Latency(backend, 1, imgsz, c.Runs, nms: true), Latency(backend, c.Batch, imgsz, c.Runs, nms: true)));
        }

        var formats = new List<(string Name, OnnxExportOptions Options)>
        {
            ("ONNX Runtime fp32", new OnnxExportOptions { ImageSize = imgsz, Dynamic = true, Names = names }),
            ("ONNX Runtime fp16", new OnnxExportOptions { ImageSize = imgsz, Dynamic = true, Half = true, Names = names }),
        };
        formats.Add(("ONNX Runtime INT8 (QDQ, min-max)", new OnnxExportOptions { ImageSize = imgsz, Dynamic = true, Names = names }));
        if (!segment) formats.Add(("ONNX Runtime fp32 + NMS in graph", new OnnxExportOptions { ImageSize = imgsz, Dynamic = true, Names = names, Nms = true }));
        foreach (var (name, options) in formats)
        {
            bool int8 = name.Contains("INT8", StringComparison.Ordinal);
            var path = Path.Combine(dir, (options.Nms ? "nms" : options.Half ? "fp16" : int8 ? "int8" : "fp32") + ".onnx");
            OnnxExporter.Export(model, path, options);
            if (int8) OnnxQuantizer.Quantize(path, path, CalibrationInputs.From(loader));
            // No spinning: idle ONNX Runtime threads would otherwise spin against the NMS that follows each pass on the same cores.
            using var ort = OnnxRuntimeBackend.Open(path, new OnnxRuntimeOptions { AllowSpinning = false });
            var (map, mask) = options.Nms ? (null, null) : Maps(NewValidator().Run(ort, loader));
            Add(new BenchmarkRow(name, new FileInfo(path).Length / 1e6, map, mask,
                Latency(ort, 1, imgsz, c.Runs, nms: !options.Nms), Latency(ort, c.Batch, imgsz, c.Runs, nms: !options.Nms)));
        }
        LastRows = rows;

        var table = Table(rows, c.Batch, segment);
        Console.WriteLine();
        Console.WriteLine(table);
        AtomicFile.WriteAllText(Path.Combine(dir, "benchmark.csv"), Csv(rows, c.Batch, segment));
        AtomicFile.WriteAllText(Path.Combine(dir, "benchmark.json"), JsonSerializer.Serialize(new
        {
            model = c.Model, data = c.Data, imgsz, batch = c.Batch, runs = c.Runs, images = loader.Dataset.Count,
            rows = rows.Select(r => new
            {
                format = r.Format, size_mb = Math.Round(r.SizeMb, 2), map50_95 = r.Map, mask_map50_95 = r.MaskMap,
                batch1_ms_p50 = Math.Round(r.Batch1.P50, 2), batch1_ms_p90 = Math.Round(r.Batch1.P90, 2),
                batchN_ms_p50 = Math.Round(r.BatchN.P50, 2), batchN_ms_p90 = Math.Round(r.BatchN.P90, 2),
            }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"Results saved to {dir}");
        return 0;
    }

    static string Fmt(double? v) => v is double d ? d.ToString("F4", CultureInfo.InvariantCulture) : "—";

    /// <summary>Per-image milliseconds of forward (+ NMS) at <paramref name="batch"/>: p50 and p90 of the timed runs.</summary>
    static (double P50, double P90) Latency(IDetectionBackend backend, int batch, int imgsz, int runs, bool nms)
    {
        manual_seed(0);
        using var x = rand(batch, 3, imgsz, imgsz).to(backend.Device);
        var nmsOptions = new NmsOptions { Conf = 0.25, Iou = 0.7, MaxDet = 300, NumClasses = backend.Names.Count };
        var times = new List<double>();
        for (int i = 0; i < 3 + runs; i++)
        {
            using var scope = NewDisposeScope();
            var sw = Stopwatch.StartNew();
            var outputs = backend.ForwardOutputs(x);
            if (nms) foreach (var d in Nms.NonMaxSuppression(outputs[0], nmsOptions)) d.Dispose();
            if (i >= 3) times.Add(sw.Elapsed.TotalMilliseconds / batch);
        }
        times.Sort();
        double At(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        return (At(0.5), At(0.9));
    }

    internal static string Table(IReadOnlyList<BenchmarkRow> rows, int batch, bool segment)
    {
        var sb = new StringBuilder();
        string mask = segment ? " mAP50-95(M) |" : "";
        sb.AppendLine($"| Format | Size (MB) | mAP50-95(B) |{mask} ms/img b1 p50 | b1 p90 | b{batch} p50 | b{batch} p90 | FPS (b1) |");
        sb.AppendLine("|---|---|---|" + (segment ? "---|" : "") + "---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Format} | {r.SizeMb:F1} | {Fmt(r.Map)} |{(segment ? $" {Fmt(r.MaskMap)} |" : "")} {r.Batch1.P50:F1} | {r.Batch1.P90:F1} | {r.BatchN.P50:F1} | {r.BatchN.P90:F1} | {1000 / r.Batch1.P50:F1} |"));
        return sb.ToString().TrimEnd();
    }

    static string Csv(IReadOnlyList<BenchmarkRow> rows, int batch, bool segment)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"format,size_mb,map50_95_B,{(segment ? "map50_95_M," : "")}b1_p50_ms,b1_p90_ms,b{batch}_p50_ms,b{batch}_p90_ms");
        string F(double? v) => v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        foreach (var r in rows)
            sb.AppendLine($"{r.Format},{F(r.SizeMb)},{F(r.Map)},{(segment ? F(r.MaskMap) + "," : "")}{F(r.Batch1.P50)},{F(r.Batch1.P90)},{F(r.BatchN.P50)},{F(r.BatchN.P90)}");
        return sb.ToString();
    }
}
