using Strix.Data;
using Strix.Engine;
using Strix.Eval;
using Strix.Export;
using Strix.Models;
using Strix.Runtime;
using TorchSharp;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix val model=best.safetensors data=coco128.yaml</c>: validates a model on a dataset split and
/// writes the table, plots and (save_json) predictions.json to runs/detect/val*. For COCO datasets
/// whose annotations json is beside the images (annotations/instances_*{split folder}.json),
/// predictions.json is also scored with the pycocotools definition. <c>.onnx</c> models run in ONNX Runtime.
/// </summary>
public sealed class ValCommand : ICommand
{
    public string Name => "val";
    public string Summary => "validate a model: val model=yolov8n.safetensors data=coco128.yaml (imgsz=640 batch=32 conf=0.001 iou=0.7 split=val save_json plots)";

    public int Run(CliArgs args)
    {
        var modelArg = args.Require("model", "a weights file (.safetensors, .pt, .onnx)");
        var data = args.Require("data", "a data.yaml path");
        int imgsz = args.GetInt("imgsz", 640);
        int batch = args.GetInt("batch", 32);
        double conf = args.GetDouble("conf", 0.001);
        double iou = args.GetDouble("iou", 0.7);
        int maxDet = args.GetInt("max_det", 300);
        var split = args.GetString("split", "val")!;
        bool saveJson = args.GetBool("save_json", false);
        bool plots = args.GetBool("plots", true);
        bool rect = args.GetBool("rect", true);
        bool singleCls = args.GetBool("single_cls", false);
        bool verbose = args.GetBool("verbose", true);
        int workers = args.GetInt("workers", Math.Min(8, Environment.ProcessorCount));
        var device = Devices.Parse(args.GetString("device", ""));
        var project = args.GetString("project", Path.Combine("runs", "detect"))!;
        var name = args.GetString("name", "val")!;
        bool existOk = args.GetBool("exist_ok", false);
        args.EnsureAllUsed(Name);
        if (batch < 1) throw new ArgumentException($"batch={batch} must be at least 1");

        var config = DatasetConfig.Resolve(data, Console.WriteLine);
        var saveDir = IncrementPath(Path.Combine(project, name), existOk);
        string? anno = saveJson && CocoCategories.IsCoco(config.Names) ? FindCocoAnnotations(config, split) : null;
        var options = new ValidatorOptions
        {
            Conf = conf, Iou = iou, MaxDet = maxDet, SingleCls = singleCls, Plots = plots, SaveJson = saveJson,
            SaveDir = saveDir, Verbose = verbose, CocoAnnotations = anno,
        };

        // .onnx runs in ONNX Runtime, as deployed; everything else is loaded into TorchSharp.
        if (Path.GetExtension(modelArg).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(modelArg)) throw new FileNotFoundException($"model={modelArg}: file not found", modelArg);
            using var backend = OnnxRuntimeBackend.Open(modelArg);
            CheckClasses(backend.Names.Count, config.Nc, singleCls, modelArg, data);
            if (!backend.DynamicShape)
            {
                if (imgsz != backend.ImageSize) Console.WriteLine($"WARNING ⚠️ {modelArg} has a fixed {backend.ImageSize}x{backend.ImageSize} input: imgsz={imgsz} → {backend.ImageSize}");
                if (rect) Console.WriteLine("WARNING ⚠️ fixed-shape ONNX model: rect=false");
                imgsz = backend.ImageSize; rect = false;
            }
            imgsz = AlignToStride(imgsz, backend.Stride);
            using var onnxLoader = DataLoader.Create(config, split, DataLoaderOptions.ForValidation(imgsz, batch, workers, rect) with { Stride = backend.Stride },
                m => Console.WriteLine($"WARNING ⚠️ {m}"));
            Console.WriteLine($"val: {onnxLoader.Dataset.Count} images in {onnxLoader.Count} batches of {batch} at imgsz={imgsz} with ONNX Runtime ({modelArg})");
            var r = new Validator(singleCls ? new[] { "item" } : config.Names, options).Run(backend, onnxLoader);
            return r.Metrics.Images > 0 ? 0 : 1;
        }

        using var loaded = ModelLoader.Load(modelArg, log: Console.WriteLine);
        var model = loaded.Model;
        CheckClasses(model.NumClasses, config.Nc, singleCls, modelArg, data);
        imgsz = AlignToStride(imgsz, model.MaxStride);
        model.to(device);
        model.eval();
        if (!model.IsFused) model.Fuse();

        var loaderOptions = DataLoaderOptions.ForValidation(imgsz, batch, workers, rect) with { Stride = model.MaxStride };
        using var loader = DataLoader.Create(config, split, loaderOptions, m => Console.WriteLine($"WARNING ⚠️ {m}"));
        Console.WriteLine($"val: {loader.Dataset.Count} images in {loader.Count} batches of {batch} at imgsz={imgsz} on {device} ({modelArg})");
        var result = new Validator(singleCls ? new[] { "item" } : config.Names, options).Run(model, loader);
        return result.Metrics.Images > 0 ? 0 : 1;
    }

    static void CheckClasses(int modelClasses, int dataClasses, bool singleCls, string modelArg, string data)
    {
        if (singleCls)
        {
            if (modelClasses != 1) throw new ArgumentException($"single_cls=true needs a one-class model; model={modelArg} has {modelClasses} classes");
        }
        else if (modelClasses != dataClasses)
            throw new ArgumentException($"model={modelArg} has {modelClasses} classes but data={data} has {dataClasses}; validate on a dataset with the model's classes");
    }

    static int AlignToStride(int imgsz, int stride)
    {
        if (imgsz % stride == 0) return imgsz;
        int fixedSize = (imgsz + stride - 1) / stride * stride;
        Console.WriteLine($"WARNING ⚠️ imgsz={imgsz} must be a multiple of max stride {stride}, updating to {fixedSize}");
        return fixedSize;
    }

    /// <summary>runs/detect/val, then val2, val3, … unless exist_ok.</summary>
    static string IncrementPath(string path, bool existOk)
    {
        if (existOk || !Directory.Exists(path)) return path;
        for (int i = 2; ; i++)
            if (!Directory.Exists(path + i)) return path + i;
    }

    /// <summary>
    /// The COCO instances json for the split's image folder, as Ultralytics finds annotations/instances_val2017.json:
    /// {dataset root}/annotations/instances_*{folder}.json, where folder is the split's image folder name.
    /// </summary>
    static string? FindCocoAnnotations(DatasetConfig config, string split)
    {
        var dir = Path.Combine(config.Path, "annotations");
        if (!Directory.Exists(dir)) return null;
        var sources = split.ToLowerInvariant() switch { "train" => config.TrainSources, "test" => config.TestSources, _ => config.ValSources };
        if (sources is null) return null;
        foreach (var s in sources)
        {
            var folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(s));
            var hit = Directory.EnumerateFiles(dir, $"instances_*{folder}.json").OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault();
            if (hit is not null) return hit;
        }
        return null;
    }
}
