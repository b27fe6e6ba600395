using Strix.Config;
using Strix.Data;
using Strix.Engine;
using Strix.Eval;
using Strix.Export;
using Strix.Models;
using Strix.Runtime;
using Strix.Tasks;
using Strix.Tasks.Classify;
using Strix.Tasks.Detect;
using TorchSharp;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix val model=best.safetensors data=coco128.yaml</c>: validates a model on a dataset split and
/// writes the table, plots and (save_json) predictions.json to runs/detect/val* (a segmentation model: box and mask
/// metrics, runs/segment/val*). For COCO datasets
/// whose annotations json is beside the images (annotations/instances_*{split folder}.json),
/// predictions.json is also scored with the pycocotools definition. <c>.onnx</c> models run in ONNX Runtime.
/// </summary>
public sealed class ValCommand : ICommand
{
    public string Name => "val";
    public string Summary => "validate a model: val model=yolov8n.safetensors data=coco128.yaml (imgsz=640 batch=32 conf=0.001 iou=0.7 split=val save_json plots)";

    /// <summary>What the last <see cref="Run"/> measured (for callers that need the numbers, not the table).</summary>
    public ValidationResult? LastResult { get; private set; }

    public int Run(IReadOnlyList<string> args)
    {
        var c = ConfigRecords.Parse<ValConfig>(args);
        var (modelArg, data, imgsz, batch, split, rect, singleCls) = (c.Model!, c.Data!, c.ImgSz, c.Batch, c.Split, c.Rect, c.SingleCls);
        // .onnx runs in ONNX Runtime, as deployed (one session, whose metadata also says the task); everything else in TorchSharp.
        bool isOnnx = Path.GetExtension(modelArg).Equals(".onnx", StringComparison.OrdinalIgnoreCase);
        if (isOnnx && !File.Exists(modelArg)) throw new FileNotFoundException($"model={modelArg}: file not found", modelArg);
        using var onnx = isOnnx ? OnnxRuntimeBackend.Open(modelArg, new OnnxRuntimeOptions { Device = c.Device }) : null;
        if (onnx?.Task == "classify" || !isOnnx && IsClassifier(modelArg)) return RunClassification(c, onnx);

        var config = DatasetConfig.Resolve(data, Console.WriteLine);
        string? anno = c.SaveJson && CocoCategories.IsCoco(config.Names) ? FindCocoAnnotations(config, split) : null;
        // The run folder (runs/detect/valN) is made once the model has loaded and fits the data, so a wrong model= leaves none behind.
        ValidatorOptions Options(string task = "detect") => new()
        {
            Conf = c.Conf, Iou = c.Iou, MaxDet = c.MaxDet, SingleCls = singleCls, Plots = c.Plots, SaveJson = c.SaveJson,
            SaveDir = RunDirectory.Create(c.IsGiven("project") ? c.Project : Path.Combine("runs", task), c.Name, c.ExistOk, withWeights: false),
            Verbose = c.Verbose, CocoAnnotations = anno,
        };
        void Warn(string m) => Console.WriteLine($"WARNING ⚠️ {m}");

        if (onnx is { } backend)
        {
            if (backend.NmsInGraph)
                throw new NotSupportedException($"model={modelArg} was exported with nms=true (conf {backend.Metadata.GetValueOrDefault("conf", "?")} fixed in the graph), " +
                    "which drops the low-score detections mAP is computed from; validate the same weights exported without nms");
            CheckClasses(backend.Names.Count, config.Nc, singleCls, modelArg, data);
            if (!backend.DynamicShape)
            {
                if (imgsz != backend.ImageSize) Warn($"{modelArg} has a fixed {backend.ImageSize}x{backend.ImageSize} input: imgsz={imgsz} → {backend.ImageSize}");
                if (rect) Warn("fixed-shape ONNX model: rect=false");
                imgsz = backend.ImageSize; rect = false;
            }
            imgsz = ArgChecks.RoundToStride(imgsz, backend.Stride, Console.WriteLine);
            bool onnxSegment = backend.Task == "segment";
            using var onnxLoader = DataLoader.Create(config, split, TaskLoaderOptions(DataLoaderOptions.ForValidation(imgsz, batch, c.Workers, rect) with
            {
                Stride = backend.Stride, Segments = onnxSegment,
            }, backend.Task, config, backend.KptShape, modelArg), Warn);
            Console.WriteLine($"val: {onnxLoader.Dataset.Count} images in {onnxLoader.Count} batches of {batch} at imgsz={imgsz} with ONNX Runtime on {string.Join(", ", backend.Providers)} ({modelArg})");
            var onnxNames = singleCls ? backend.Names : config.Names;
            var onnxValidator = CreateValidator(backend.Task, onnxNames, Options(backend.Task), backend.KptShape);
            var r = LastResult = onnxValidator.Run(backend, onnxLoader);
            return r.Metrics.Images > 0 ? 0 : 1;
        }

        var device = Devices.Parse(c.Device ?? "");
        using var loaded = ModelLoader.Load(modelArg, log: Console.WriteLine);
        var model = loaded.Model;
        CheckClasses(model.NumClasses, config.Nc, singleCls, modelArg, data);
        imgsz = ArgChecks.RoundToStride(imgsz, model.MaxStride, Console.WriteLine);
        model.to(device);
        model.eval();
        if (c.Fuse && !model.IsFused) model.Fuse(); // off by default: unfused, the numbers are exactly training's

        // A segmentation model is measured on masks too: the loader rasterises the polygons (Ultralytics' defaults, overlap at ¼).
        bool segment = model.Task == "segment";
        var loaderOptions = TaskLoaderOptions(DataLoaderOptions.ForValidation(imgsz, batch, c.Workers, rect) with { Stride = model.MaxStride, Segments = segment },
            model.Task, config, model.KptShape, modelArg);
        using var loader = DataLoader.Create(config, split, loaderOptions, Warn);
        Console.WriteLine($"val: {loader.Dataset.Count} images in {loader.Count} batches of {batch} at imgsz={imgsz} on {device} ({modelArg})");
        var names = singleCls ? loaded.Metadata.Names : config.Names;
        var validator = CreateValidator(model.Task, names, Options(model.Task), model.KptShape);
        var result = LastResult = validator.Run(model, loader);
        return result.Metrics.Images > 0 ? 0 : 1;
    }

    /// <summary>What the last classification <see cref="Run"/> measured.</summary>
    public ClassificationResult? LastClassification { get; private set; }

    /// <summary>True when <paramref name="modelArg"/> (TorchSharp weights or a name) is a classifier: a <c>-cls</c> name, or Strix weights whose header says so.</summary>
    static bool IsClassifier(string modelArg)
    {
        if (YoloTasks.TaskOfModelName(modelArg) == "classify") return true;
        return File.Exists(modelArg) && Path.GetExtension(modelArg).Equals(".safetensors", StringComparison.OrdinalIgnoreCase)
            && WeightsFile.ReadMetadata(modelArg).Task == "classify";
    }

    /// <summary>
    /// A classifier on a class-folder dataset (<c>data=</c> a folder or shapes-cls): top-1 / top-5 accuracy, the
    /// confusion matrix and val_batch pictures in runs/classify/val*, at imgsz 224 unless given (Ultralytics' default);
    /// <paramref name="onnx"/> is the session of an .onnx classifier, null for TorchSharp weights.
    /// </summary>
    int RunClassification(ValConfig c, OnnxRuntimeBackend? onnx)
    {
        var root = ClassificationDataset.ResolveRoot(c.Data!, Console.WriteLine);
        var dataset = ClassificationDataset.Load(root, c.Split, m => Console.WriteLine($"WARNING ⚠️ {m}"));
        int imgsz = c.IsGiven("imgsz") ? c.ImgSz : 224;
        ClassificationValidator Validator(out string saveDir)
        {
            saveDir = RunDirectory.Create(c.IsGiven("project") ? c.Project : Path.Combine("runs", "classify"), c.Name, c.ExistOk, withWeights: false);
            return new ClassificationValidator(dataset.Names, new ValidatorOptions { Plots = c.Plots, SaveDir = saveDir, Verbose = c.Verbose, PrintSaveDir = false });
        }
        ClassificationResult result;
        string dir;
        if (onnx is { } backend)
        {
            CheckClasses(backend.Names.Count, dataset.Names.Count, false, c.Model!, c.Data!);
            if (!backend.DynamicShape && imgsz != backend.ImageSize)
            {
                Console.WriteLine($"WARNING ⚠️ {c.Model} has a fixed {backend.ImageSize}x{backend.ImageSize} input: imgsz={imgsz} → {backend.ImageSize}");
                imgsz = backend.ImageSize;
            }
            var loader = new ClassificationLoader(dataset, ClassificationLoaderOptions.ForValidation(imgsz, backend.FixedBatch ?? c.Batch, c.Workers));
            Console.WriteLine($"val: {dataset.Count} images in {loader.Count} batches at imgsz={imgsz} with ONNX Runtime on {string.Join(", ", backend.Providers)} ({c.Model})");
            result = LastClassification = Validator(out dir).Run(backend, loader);
        }
        else
        {
            var device = Devices.Parse(c.Device ?? "");
            using var loaded = ModelLoader.Load(c.Model!, log: Console.WriteLine);
            var model = loaded.Model;
            if (model.Task != "classify") throw new ArgumentException($"model={c.Model} is a {model.Task} model, not a classifier");
            CheckClasses(model.NumClasses, dataset.Names.Count, false, c.Model!, c.Data!);
            model.to(device);
            if (c.Fuse && !model.IsFused) model.Fuse();
            var loader = new ClassificationLoader(dataset, ClassificationLoaderOptions.ForValidation(imgsz, c.Batch, c.Workers));
            Console.WriteLine($"val: {dataset.Count} images in {loader.Count} batches of {c.Batch} at imgsz={imgsz} on {device} ({c.Model})");
            result = LastClassification = Validator(out dir).Run(model, loader);
        }
        Console.WriteLine($"Results saved to {dir}");
        return result.Metrics.Images > 0 ? 0 : 1;
    }

    /// <summary>The task's validator: masks for segment, OKS keypoints for pose, rotated boxes for obb, boxes otherwise.</summary>
    static DetectionValidator CreateValidator(string task, IReadOnlyList<string> names, ValidatorOptions options, int[]? kptShape) => task switch
    {
        "segment" => new Strix.Tasks.Segment.SegmentationValidator(names, options),
        "pose" => new Strix.Tasks.Pose.PoseValidator(names, kptShape!, options),
        "obb" => new Strix.Tasks.Obb.ObbValidator(names, options),
        _ => new DetectionValidator(names, options),
    };

    /// <summary>A pose model reads the data's keypoints, which must have the model's shape; an OBB model the rotated boxes.</summary>
    static DataLoaderOptions TaskLoaderOptions(DataLoaderOptions options, string task, DatasetConfig config, int[]? kptShape, string modelArg)
    {
        if (task == "obb") return options with { OrientedBoxes = true };
        if (task != "pose") return options;
        var data = config.KptShape ?? throw new ArgumentException($"model={modelArg} is a pose model; {config.YamlFile} has no kpt_shape, so it holds no keypoints to validate against");
        if (kptShape is null || !data.SequenceEqual(kptShape))
            throw new ArgumentException($"model={modelArg} predicts kpt_shape [{string.Join(", ", kptShape ?? Array.Empty<int>())}], {config.YamlFile} has [{string.Join(", ", data)}]");
        return options with { KptShape = data, FlipIdx = config.FlipIdx };
    }

    /// <summary>The model's classes must be the dataset's, unless single_cls counts every class as one.</summary>
    static void CheckClasses(int modelClasses, int dataClasses, bool singleCls, string modelArg, string data)
    {
        if (!singleCls && modelClasses != dataClasses)
            throw new ArgumentException($"model={modelArg} has {modelClasses} classes but data={data} has {dataClasses}; validate on a dataset with the model's classes (or single_cls=true)");
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
