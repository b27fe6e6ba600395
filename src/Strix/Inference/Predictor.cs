using Strix.Runtime;
using System.Diagnostics;
using SkiaSharp;
using Strix.Data;
using Strix.Inference.Sources;
using static TorchSharp.torch;

namespace Strix.Inference;

/// <summary>
/// Letterbox → batched forward → the task's <see cref="IPostprocessor"/> (detection: NMS, boxes scaled
/// back to each original image; segmentation, an <see cref="IOutputsPostprocessor"/>, adds each detection's mask). Works on any <see cref="IDetectionBackend"/> (TorchSharp or ONNX Runtime). Sources are streamed: images are
/// decoded a batch at a time, so a folder of thousands never sits in memory at once.
/// </summary>
public sealed class Predictor
{
    readonly IDetectionBackend _backend;
    readonly IPostprocessor _post;

    /// <param name="backend">Runs the model.</param>
    /// <param name="postprocessor">The task's post-processing (detection: NMS and box mapping).</param>
    /// <param name="options">Batching and input size (thresholds belong to the postprocessor).</param>
    public Predictor(IDetectionBackend backend, IPostprocessor postprocessor, PredictOptions? options = null)
    {
        _backend = backend;
        _post = postprocessor;
        Options = options ?? new PredictOptions();
    }

    public PredictOptions Options { get; }

    /// <summary>Called for a source that cannot be read (missing, not an image, truncated); prediction goes on with the rest.</summary>
    public Action<string, Exception> OnError { get; set; } = (path, e) => Console.Error.WriteLine($"WARNING ⚠️ skipping {path}: {e.Message}");

    /// <summary>Predicts on image files; unreadable ones are reported through <see cref="OnError"/> and skipped.</summary>
    public IEnumerable<Results> Predict(IEnumerable<string> paths)
    {
        foreach (var chunk in paths.Chunk(Math.Max(1, Options.Batch)))
        {
            var batch = new List<(string? Path, RgbImage Image)>();
            var sw = Stopwatch.StartNew();
            foreach (var p in chunk)
            {
                try { batch.Add((p, ImageIO.Load(p))); }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { OnError(p, e); }
            }
            double decodeMs = sw.Elapsed.TotalMilliseconds;
            if (batch.Count == 0) continue;
            foreach (var r in PredictBatch(batch, decodeMs)) yield return r;
        }
    }

    /// <summary>
    /// Predicts on every image, video, camera or stream a <c>source=</c> names (see <see cref="FrameSources"/>),
    /// lazily: videos are decoded on their own thread ahead of inference, a batch of frames at a time. A
    /// source that cannot be opened is reported through <see cref="OnError"/> and skipped when it is one of
    /// several; a single source that cannot be opened throws.
    /// </summary>
    public IEnumerable<Results> Stream(string source, SourceOptions? sourceOptions = null) =>
        Stream(FrameSources.Expand(source), sourceOptions);

    /// <summary>The same, over sources already listed by <see cref="FrameSources.Expand"/>.</summary>
    public IEnumerable<Results> Stream(IReadOnlyList<string> entries, SourceOptions? sourceOptions = null)
    {
        var opts = (sourceOptions ?? new SourceOptions()) with { VidStride = Options.VidStride };
        var images = new List<string>();
        foreach (var entry in entries)
        {
            // Expand lists images, video files, cameras and streams only: whatever is not an image is a video source.
            if (ImageIO.IsImageFile(entry))
            {
                images.Add(entry);
                continue;
            }
            foreach (var r in Predict(images)) yield return r;
            images.Clear();
            IFrameSource? video = null;
            try { video = FrameSources.Open(entry, opts); }
            catch (Exception e) when (entries.Count > 1 && e is IOException or InvalidDataException or UnauthorizedAccessException) { OnError(entry, e); }
            if (video is null) continue;
            // The prefetcher disposes the source once its decoder thread has stopped (a native read may outlast any wait).
            foreach (var r in Predict(FramePrefetcher.Prefetch(video, Options.StreamBuffer, ownsSource: true))) yield return r;
        }
        foreach (var r in Predict(images)) yield return r;
    }

    /// <summary>Predicts on decoded frames (of one or more sources), a batch at a time; video results carry their frame index and time.</summary>
    public IEnumerable<Results> Predict(IEnumerable<SourceFrame> frames)
    {
        foreach (var chunk in frames.Chunk(Math.Max(1, Options.Batch)))
        {
            var results = PredictBatch(chunk.Select(f => ((string?)f.Source, f.Image)).ToList(), 0);
            for (int i = 0; i < chunk.Length; i++)
                yield return chunk[i].IsVideo ? results[i].AtFrame(chunk[i].Index, chunk[i].Timestamp, chunk[i].FrameRate, chunk[i].SourceFrames) : results[i];
        }
    }

    /// <summary>Predicts on decoded images, a batch at a time.</summary>
    public IEnumerable<Results> Predict(IEnumerable<RgbImage> images)
    {
        foreach (var chunk in images.Chunk(Math.Max(1, Options.Batch)))
            foreach (var r in PredictBatch(chunk.Select(i => ((string?)null, i)).ToList(), 0)) yield return r;
    }

    /// <summary>Predicts on SkiaSharp bitmaps.</summary>
    public IEnumerable<Results> Predict(IEnumerable<SKBitmap> bitmaps) => Predict(bitmaps.Select(ImageIO.FromBitmap));

    /// <summary>
    /// Predicts on a ready model input: float [B,3,H,W] RGB in 0–1, sides multiples of the stride.
    /// Boxes are in that tensor's pixel coordinates (no letterbox is undone).
    /// </summary>
    public IReadOnlyList<Results> Predict(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3) throw new ArgumentException($"expected a [B,3,H,W] tensor, got [{string.Join(", ", images.shape)}]");
        int h = (int)images.shape[2], w = (int)images.shape[3];
        if (h % _backend.Stride != 0 || w % _backend.Stride != 0)
            throw new ArgumentException($"tensor input {w}x{h} must be a multiple of the stride {_backend.Stride}");
        var sw = Stopwatch.StartNew();
        using var input = images.to(ScalarType.Float32).to(_backend.Device);
        var outputs = _backend.ForwardOutputs(input);
        double inferMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        int n = (int)images.shape[0];
        if (_backend.Task == "classify")
        {
            float[] p;
            try { p = TensorArrays.Floats(outputs[0]); }
            finally { foreach (var o in outputs) o.Dispose(); }
            int nc = p.Length / n;
            var classSpeed = new Speed(0, inferMs / Math.Max(1, n), 0);
            return Enumerable.Range(0, n).Select(i => new Results(null, h, w, _backend.Names, Array.Empty<Detection>(), classSpeed)
                { Probs = new ClassProbabilities(p[(i * nc)..((i + 1) * nc)]) }).ToList();
        }
        var predictions = Postprocess(outputs, Enumerable.Repeat(new InputFrame(1, 1, 0, 0, w, h), n).ToList());
        double postMs = sw.Elapsed.TotalMilliseconds;
        var speed = new Speed(0, inferMs / Math.Max(1, n), postMs / Math.Max(1, n));
        return predictions.Select(p => new Results(null, h, w, _backend.Names, p.Detections, speed) { Masks = p.Masks, Keypoints = p.Keypoints, OrientedBoxes = p.OrientedBoxes }).ToList();
    }

    /// <summary>The task's post-processing of every output (and disposes them): masks when the model and postprocessor make them.</summary>
    IReadOnlyList<ImagePredictions> Postprocess(Tensor[] outputs, IReadOnlyList<InputFrame> frames)
    {
        try
        {
            if (_post is IOutputsPostprocessor rich) return rich.Postprocess(outputs, frames, _backend.Names);
            if (outputs.Length > 1)
                throw new ArgumentException($"a {_backend.Task} model's {outputs.Length} outputs need its task's postprocessor, not {_post.GetType().Name} (Yolo.Predictor picks it)");
            return _post.Postprocess(outputs[0], frames, _backend.Names).Select(d => new ImagePredictions(d)).ToList();
        }
        finally { foreach (var o in outputs) o.Dispose(); }
    }

    List<Results> PredictBatch(List<(string? Path, RgbImage Image)> batch, double decodeMs)
    {
        if (_backend.Task == "classify") return ClassifyBatch(batch, decodeMs);
        var sw = Stopwatch.StartNew();
        int size = Options.ImgSz ?? _backend.ImageSize;
        int stride = _backend.Stride;
        size = (int)Math.Ceiling(size / (double)stride) * stride;
        // Minimal (rectangular) padding when every image has the same shape and the backend accepts it.
        bool sameShape = batch.All(b => b.Image.Width == batch[0].Image.Width && b.Image.Height == batch[0].Image.Height);
        bool auto = sameShape && _backend.DynamicShape;
        var boxed = batch.Select(b => Letterbox.Apply(b.Image, size, size, auto: auto, stride: stride)).ToList();
        using var input = ToTensor(boxed.Select(l => l.Image).ToList(), _backend.Device);
        double preMs = sw.Elapsed.TotalMilliseconds + decodeMs;
        sw.Restart();
        var outputs = _backend.ForwardOutputs(input);
        double inferMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var frames = boxed.Select((lb, i) => new InputFrame(lb.RatioW, lb.RatioH, lb.PadW, lb.PadH, batch[i].Image.Width, batch[i].Image.Height)).ToList();
        var predictions = Postprocess(outputs, frames);
        double postMs = sw.Elapsed.TotalMilliseconds;
        int n = batch.Count;
        var speed = new Speed(preMs / n, inferMs / n, postMs / n);
        return batch.Select((b, i) => new Results(b.Path, b.Image.Height, b.Image.Width, _backend.Names, predictions[i].Detections, speed,
            Options.KeepImages ? b.Image : null) { Masks = predictions[i].Masks, Keypoints = predictions[i].Keypoints, OrientedBoxes = predictions[i].OrientedBoxes }).ToList();
    }

    /// <summary>A classifier's batch: the validation centre crop (short side to imgsz), softmax probabilities, no detections.</summary>
    List<Results> ClassifyBatch(List<(string? Path, RgbImage Image)> batch, double decodeMs)
    {
        var sw = Stopwatch.StartNew();
        int size = Options.ImgSz ?? _backend.ImageSize;
        using var input = ToTensor(batch.Select(b => ClassifyTransforms.CenterCrop(b.Image, size)).ToList(), _backend.Device);
        double preMs = sw.Elapsed.TotalMilliseconds + decodeMs;
        sw.Restart();
        var outputs = _backend.ForwardOutputs(input);
        double inferMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        float[] probs;
        try { probs = TensorArrays.Floats(outputs[0]); }
        finally { foreach (var o in outputs) o.Dispose(); }
        int n = batch.Count, nc = probs.Length / n;
        var perImage = Enumerable.Range(0, n).Select(i => new ClassProbabilities(probs[(i * nc)..((i + 1) * nc)])).ToList();
        var speed = new Speed(preMs / n, inferMs / n, sw.Elapsed.TotalMilliseconds / n);
        return batch.Select((b, i) => new Results(b.Path, b.Image.Height, b.Image.Width, _backend.Names, Array.Empty<Detection>(), speed,
            Options.KeepImages ? b.Image : null) { Probs = perImage[i] }).ToList();
    }

    /// <summary>Stacks equally sized RGB images into float [B,3,H,W] in 0–1 on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(IReadOnlyList<RgbImage> images, Device device)
    {
        int h = images[0].Height, w = images[0].Width;
        var bytes = new byte[images.Count * h * w * 3];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Height != h || images[i].Width != w) throw new ArgumentException("images in a batch must have one size");
            Buffer.BlockCopy(images[i].Pixels, 0, bytes, i * h * w * 3, h * w * 3);
        }
        using var scope = NewDisposeScope();
        var t = tensor(bytes, new long[] { images.Count, h, w, 3 }).to(device);
        return t.permute(0, 3, 1, 2).to(ScalarType.Float32).div_(Scalars.PixelMax).contiguous().MoveToOuterDisposeScope();
    }
}
