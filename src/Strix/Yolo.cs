using SkiaSharp;
using Strix.Data;
using Strix.Export;
using Strix.Inference;
using Strix.Inference.Tracking;
using Strix.Models;
using Strix.Runtime;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix;

/// <summary>
/// The one-line entry point, as Ultralytics' <c>YOLO(...)</c>: load a model by scale name or weights
/// file and predict. <c>.safetensors</c> and Ultralytics <c>.pt</c> run in TorchSharp; <c>.onnx</c>
/// runs in ONNX Runtime (ours or any Ultralytics-layout export).
/// <code>
/// using var yolo = Yolo.Load("runs/detect/train/weights/best.safetensors");
/// foreach (var r in yolo.Predict("images/")) Console.WriteLine($"{r.Path}: {r.Summary()}");
/// </code>
/// </summary>
public sealed class Yolo : IDisposable
{
    readonly IDetectionBackend _backend;

    /// <summary>Wraps an in-memory model.</summary>
    public Yolo(DetectionModel model, IReadOnlyList<string> names, int imageSize = 640, string? device = null)
        : this(new TorchBackend(model, names, imageSize, device is null ? null : Devices.Parse(device))) { }

    /// <summary>Wraps any backend (TorchSharp, ONNX Runtime, or your own).</summary>
    public Yolo(IDetectionBackend backend) { _backend = backend; }

    /// <summary>
    /// Loads <paramref name="model"/>: a scale (<c>yolov8n</c> … <c>yolov8x</c>, random weights),
    /// a Strix <c>.safetensors</c>, an Ultralytics <c>.pt</c>, or an <c>.onnx</c> export.
    /// </summary>
    /// <param name="model">Scale name or weights path.</param>
    /// <param name="device"><c>cpu</c>, <c>cuda:0</c> … for TorchSharp models; for ONNX models an execution provider
    /// (<c>cpu</c>, <c>auto</c>, <c>cuda:N</c>, <c>tensorrt:N</c>, <c>openvino</c>: see <see cref="ExecutionProviders"/>).</param>
    /// <param name="log">Receives import reports (unmapped tensors …); null prints nothing.</param>
    public static Yolo Load(string model, string? device = null, Action<string>? log = null)
    {
        if (Path.GetExtension(model).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(model)) throw new FileNotFoundException($"model={model}: file not found", model);
            return new Yolo(OnnxRuntimeBackend.Open(model, new OnnxRuntimeOptions { Device = device }));
        }
        var loaded = ModelLoader.Load(model, log: log);
        return new Yolo(new TorchBackend(loaded.Model, loaded.Metadata.Names, loaded.Metadata.ImgSz,
            device is null ? null : Devices.Parse(device), ownsModel: true));
    }

    /// <summary>The TorchSharp model, or null when running in ONNX Runtime.</summary>
    public DetectionModel? Model => (_backend as TorchBackend)?.Model;
    public IDetectionBackend Backend => _backend;
    public IReadOnlyList<string> Names => _backend.Names;

    /// <summary>A predictor with these options, for streaming many images.</summary>
    public Predictor Predictor(PredictOptions? options = null)
    {
        options ??= new PredictOptions();
        IPostprocessor post = _backend.Task switch
        {
            "segment" => new Tasks.Segment.SegmentationPostprocessor(options),
            "obb" => new Tasks.Obb.ObbPostprocessor(options),
            "pose" => new Tasks.Pose.PosePostprocessor(options, _backend.KptShape ?? throw new InvalidOperationException($"the {_backend.GetType().Name} runs a pose model but gives no kpt_shape")),
            _ => new DetectionPostprocessor(options),
        };
        return new(_backend, post, options);
    }

    /// <summary>Predicts on a file, a folder of images, or a glob pattern. Unreadable files are reported and skipped.</summary>
    public IReadOnlyList<Results> Predict(string source, PredictOptions? options = null) =>
        Predictor(options).Predict(ImageSources.Expand(source)).ToList();

    /// <summary>Streams predictions over image paths, a batch at a time.</summary>
    public IEnumerable<Results> Predict(IEnumerable<string> paths, PredictOptions? options = null) => Predictor(options).Predict(paths);

    public Results Predict(SKBitmap bitmap, PredictOptions? options = null) => Predictor(options).Predict(new[] { bitmap }).Single();
    public IEnumerable<Results> Predict(IEnumerable<SKBitmap> bitmaps, PredictOptions? options = null) => Predictor(options).Predict(bitmaps);
    public Results Predict(RgbImage image, PredictOptions? options = null) => Predictor(options).Predict(new[] { image }).Single();
    public IEnumerable<Results> Predict(IEnumerable<RgbImage> images, PredictOptions? options = null) => Predictor(options).Predict(images);
    /// <summary>A ready float [B,3,H,W] input in 0–1; boxes come back in its pixel coordinates.</summary>
    public IReadOnlyList<Results> Predict(Tensor images, PredictOptions? options = null) => Predictor(options).Predict(images);

    /// <summary>
    /// Streams predictions over any source: image or video files, folders and globs mixing them, a <c>.txt</c>
    /// list, a camera index (<c>"0"</c>) or a stream URL. Video frames are decoded ahead on their own thread.
    /// </summary>
    public IEnumerable<Results> Stream(string source, PredictOptions? options = null) => Predictor(options).Stream(source);

    /// <summary>
    /// Tracks objects through a source's frames: results carry track ids (<see cref="Results.Ids"/>). Ids restart
    /// for each video (or image) unless <paramref name="persist"/>. Confidence defaults to 0.1 when the options leave it
    /// unset, as Ultralytics' <c>track</c>, so the tracker sees the low-score detections it uses.
    /// </summary>
    public IEnumerable<Results> Track(string source, PredictOptions? options = null, TrackerConfig? tracker = null, bool persist = false)
    {
        using var tracking = new ResultsTracker(new ByteTracker(tracker)) { Persist = persist };
        foreach (var r in Predictor((options ?? new PredictOptions()).ForTrack()).Stream(source)) yield return tracking.Track(r);
    }

    ResultsTracker? _frameTracker;

    /// <summary>
    /// Tracks one frame you decoded yourself. With <paramref name="persist"/> the tracker carries over from the
    /// previous call (call it once per frame of a video); without, each call starts afresh, as in Ultralytics.
    /// </summary>
    public Results Track(RgbImage frame, bool persist = false, PredictOptions? options = null, TrackerConfig? tracker = null)
    {
        if (_frameTracker is null || !persist)
        {
            _frameTracker?.Dispose();
            _frameTracker = new ResultsTracker(new ByteTracker(tracker));
        }
        return _frameTracker.Track(Predictor((options ?? new PredictOptions()).ForTrack()).Predict(new[] { frame }).Single());
    }

    public void Dispose()
    {
        _frameTracker?.Dispose();
        _backend.Dispose();
    }
}
