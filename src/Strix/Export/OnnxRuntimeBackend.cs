using Strix.IO;
using System.Globalization;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Float16 = Microsoft.ML.OnnxRuntime.Float16;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using Tensor = TorchSharp.torch.Tensor;
using Strix.Inference;
using static TorchSharp.torch;

namespace Strix.Export;

/// <summary>Session settings for <see cref="OnnxRuntimeBackend"/>.</summary>
public sealed record OnnxRuntimeOptions
{
    /// <summary>Threads for one operator; 0 = one per processor core.</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>
    /// Let idle intra-op threads spin for the next operator (ONNX Runtime's default). Spinning wins on
    /// dedicated cores and loses badly on a CPU shared with other busy processes; turn it off there.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;
    /// <summary>
    /// <c>device=</c>: cpu (default), auto, cuda[:N] or N, tensorrt[:N], openvino[:CPU|GPU|NPU|AUTO]
    /// (<see cref="ExecutionProviders.Plan"/>); a provider this build lacks is an error naming the package.
    /// </summary>
    public string? Device { get; init; }
    /// <summary>TensorRT's engine cache folder; default: <c>&lt;model&gt;.trt_cache</c> beside the model.</summary>
    public string? TensorRtCache { get; init; }
    /// <summary>TensorRT: allow fp16 kernels (Ultralytics' <c>half</c>).</summary>
    public bool TensorRtFp16 { get; init; }
    /// <summary>TensorRT: allow int8 kernels (for a QDQ-quantised model).</summary>
    public bool TensorRtInt8 { get; init; }
}

/// <summary>
/// Runs an ONNX detector, segmenter or classifier in Ultralytics' layout (ours or one exported by Ultralytics) with ONNX
/// Runtime on the CPU. A segmentation export (metadata task 'segment', or a second output [B, nm, H/4, W/4]) gives
/// both outputs through <see cref="ForwardOutputs"/>; a classification export (task 'classify', or one output [B, nc]) gives
/// the class probabilities. Names, image size and stride come from the file's metadata (Ultralytics'
/// keys); float16 models and fixed or dynamic input shapes are handled here, so the predictor
/// and validator can treat it like the TorchSharp backend.
/// </summary>
public sealed class OnnxRuntimeBackend : IDetectionBackend
{
    /// <summary>The largest image side a model may claim (the limit imgsz= has everywhere).</summary>
    const int MaxImageSize = 16384;

    readonly InferenceSession _session;
    readonly RunOptions _run = new();
    readonly string _inputName, _outputName;
    readonly string? _protoName;
    readonly TensorElementType _inputType;
    readonly int? _fixedBatch, _fixedHeight, _fixedWidth;

    /// <summary>The .onnx file this backend runs.</summary>
    public string Path { get; }
    public IReadOnlyList<string> Names { get; }
    public int ImageSize { get; }
    public int Stride { get; }
    /// <summary>True when height and width are symbolic (any multiple of <see cref="Stride"/> is accepted).</summary>
    public bool DynamicShape { get; }
    /// <summary>True when the model takes and returns float16 (inputs and outputs are converted here).</summary>
    public bool IsHalf => _inputType == TensorElementType.Float16;
    /// <summary>The batch size a fixed-batch export takes, or null when the batch is symbolic.</summary>
    public int? FixedBatch => _fixedBatch;
    /// <summary>Inputs are handed to ONNX Runtime from the CPU (a GPU provider copies them over itself).</summary>
    public Device Device => CPU;
    /// <summary>The execution providers the session was given, best first (ONNX Runtime's names; the CPU last).</summary>
    public IReadOnlyList<string> Providers { get; private init; } = new[] { "CPUExecutionProvider" };
    /// <summary>The file's custom metadata (Ultralytics keys: names, stride, imgsz, batch, task, …).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary><c>detect</c>, <c>segment</c> or <c>classify</c>.</summary>
    public string Task => _classifier ? "classify" : _kptShape is not null ? "pose" : _obb ? "obb" : _protoName is null ? "detect" : "segment";
    readonly bool _obb;
    readonly bool _classifier;
    readonly int[]? _kptShape;
    /// <summary>A pose export's [keypoints, values per keypoint] (its <c>kpt_shape</c> metadata); null otherwise.</summary>
    public int[]? KptShape => _kptShape;
    /// <summary>
    /// True for a file exported with NMS in the graph: <see cref="Forward"/> then gives [B, max_det, 6] (x1 y1 x2 y2 score
    /// class in input pixels, best first, zero rows after an image's detections), which the detection post-processing
    /// filters by conf and classes without running NMS again.
    /// </summary>
    public bool NmsInGraph { get; }
    /// <summary>Mask coefficients per anchor (prototypes) of a segmentation export; 0 for detection.</summary>
    public int NumMasks { get; }

    OnnxRuntimeBackend(string path, InferenceSession session)
    {
        Path = path;
        _session = session;
        Metadata = new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap);
        string Where() => $"ONNX model '{path}'";

        if (Metadata.TryGetValue("task", out var task) && task is not ("detect" or "segment" or "classify" or "pose" or "obb"))
            throw new NotSupportedException($"{Where()} is a '{task}' model; detection, segmentation, pose, OBB and classification models are supported");
        _obb = task == "obb";
        if (task == "pose")
        {
            int[] shape;
            try { shape = PythonLiteral.ParseIntList(Metadata.GetValueOrDefault("kpt_shape") ?? throw new InvalidDataException($"{Where()} is a pose model without kpt_shape metadata")); }
            catch (FormatException e) { throw new InvalidDataException($"{Where()}: unreadable kpt_shape metadata: {e.Message}", e); }
            _kptShape = shape is [>= 1 and <= 1000, 2 or 3] ? shape : throw new InvalidDataException($"{Where()}: kpt_shape [{string.Join(", ", shape)}] is not [K, 2] or [K, 3]");
        }
        if (session.InputMetadata.Count != 1)
            throw new InvalidDataException($"{Where()} has {session.InputMetadata.Count} inputs; a detector has one image input [B,3,H,W]");
        var (inName, inMeta) = session.InputMetadata.First();
        if (inMeta.Dimensions.Length != 4 || inMeta.Dimensions[1] is not (3 or -1))
            throw new InvalidDataException($"{Where()}: input '{inName}' has shape [{string.Join(", ", inMeta.Dimensions)}], expected [B,3,H,W]");
        if (inMeta.ElementDataType is not (TensorElementType.Float or TensorElementType.Float16))
            throw new InvalidDataException($"{Where()}: input '{inName}' is {inMeta.ElementDataType}; expected float or float16");
        _inputName = inName;
        _inputType = inMeta.ElementDataType;
        int? Fixed(int d) => d > 0 ? d : null;
        _fixedBatch = Fixed(inMeta.Dimensions[0]);
        _fixedHeight = Fixed(inMeta.Dimensions[2]);
        _fixedWidth = Fixed(inMeta.Dimensions[3]);
        DynamicShape = _fixedHeight is null || _fixedWidth is null;

        if (session.OutputMetadata.Count == 0)
            throw new InvalidDataException($"{Where()} has no outputs; a detector returns [B, 4+nc, anchors]");
        var (outName, outMeta) = session.OutputMetadata.First();
        // A classifier (Ultralytics' -cls export) returns the class probabilities [B, nc].
        _classifier = task == "classify" || task is null && outMeta.Dimensions.Length == 2;
        if (_classifier && outMeta.Dimensions.Length != 2)
            throw new InvalidDataException($"{Where()} is a classifier, but output '{outName}' has shape [{string.Join(", ", outMeta.Dimensions)}]; expected [B, nc]");
        if (!_classifier && outMeta.Dimensions.Length != 3)
            throw new InvalidDataException($"{Where()}: output '{outName}' has shape [{string.Join(", ", outMeta.Dimensions)}]; expected [B, 4+nc, anchors] (Ultralytics' detect layout, exported without NMS)");
        _outputName = outName;
        // A segmentation export's second output holds the prototypes [B, nm, H/4, W/4]; output0 then ends with nm coefficients.
        if (!_classifier && (task == "segment" || session.OutputMetadata.Count == 2 && session.OutputMetadata.Last().Value.Dimensions.Length == 4))
        {
            if (session.OutputMetadata.Count != 2)
                throw new InvalidDataException($"{Where()} is a segmentation model with {session.OutputMetadata.Count} outputs; expected output0 and the prototypes output1");
            var (protoName, protoMeta) = session.OutputMetadata.Last();
            if (protoMeta.Dimensions.Length != 4 || protoMeta.Dimensions[1] < 1)
                throw new InvalidDataException($"{Where()}: output '{protoName}' has shape [{string.Join(", ", protoMeta.Dimensions)}]; expected the prototypes [B, nm, H/4, W/4]");
            _protoName = protoName;
            NumMasks = protoMeta.Dimensions[1];
        }
        // NMS in the graph (exported with nms=true): output0 is [B, max_det, 6] rows of x1 y1 x2 y2 score class.
        NmsInGraph = !_classifier && !_obb && _kptShape is null && _protoName is null && (outMeta.Dimensions[2] == 6 || Metadata.GetValueOrDefault("nms") is "True" or "true");
        int extra = _kptShape is { } ks ? ks[0] * ks[1] : _obb ? 1 : NumMasks; // rows after the class scores
        if (NmsInGraph && outMeta.Dimensions[2] != 6)
            throw new InvalidDataException($"{Where()}: metadata says nms but output '{outName}' is [{string.Join(", ", outMeta.Dimensions)}], not [B, max_det, 6]");
        int? nc = _classifier ? (outMeta.Dimensions[1] > 0 ? outMeta.Dimensions[1] : null)
            : NmsInGraph ? null : outMeta.Dimensions[1] > 4 + extra ? outMeta.Dimensions[1] - 4 - extra : null;

        try
        {
            Stride = Metadata.TryGetValue("stride", out var s) ? PythonLiteral.ParseIntList(s).Max() : 32;
            if (Metadata.TryGetValue("imgsz", out var sz)) ImageSize = PythonLiteral.ParseIntList(sz).Max();
            else ImageSize = _fixedHeight is int h && _fixedWidth is int w ? Math.Max(h, w) : 640;
            if (Metadata.TryGetValue("names", out var n)) Names = PythonLiteral.ParseNames(n);
            else if (nc is int k) Names = Enumerable.Range(0, k).Select(i => $"class{i}").ToArray();
            else throw new InvalidDataException("it has no 'names' metadata and its output does not say how many classes it has");
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{Where()} has unreadable metadata: {e.Message}", e);
        }
        // Metadata is the file's claim: check it before it sizes a letterbox or a tensor.
        if (Stride is < 1 or > 256 || (Stride & (Stride - 1)) != 0)
            throw new InvalidDataException($"{Where()}: metadata stride {Stride} is not a power of two between 1 and 256");
        if (ImageSize < Stride || ImageSize > MaxImageSize)
            throw new InvalidDataException($"{Where()}: metadata imgsz {ImageSize} is outside {Stride}..{MaxImageSize} pixels");
        if (Names.Count is 0 or > 100_000)
            throw new InvalidDataException($"{Where()}: metadata names {Names.Count} classes; expected 1 to 100000");
        if (nc is int c && c != Names.Count)
            throw new InvalidDataException($"{Where()}: output has {c} classes but its metadata names {Names.Count}");
    }

    /// <summary>Opens an .onnx detector; errors name the file.</summary>
    public static OnnxRuntimeBackend Open(string path, OnnxRuntimeOptions? options = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model '{path}' not found", path);
        var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options?.IntraOpThreads is > 0 and var t ? t : Environment.ProcessorCount,
        };
        var plan = ExecutionProviders.Plan(options?.Device, ExecutionProviders.Available);
        try { ExecutionProviders.Apply(so, plan, options?.TensorRtCache ?? path + ".trt_cache", options?.TensorRtFp16 ?? false, options?.TensorRtInt8 ?? false); }
        catch (OnnxRuntimeException e) { so.Dispose(); throw new NotSupportedException($"device={options?.Device}: ONNX Runtime could not start {plan[0].OrtName}: {e.Message}", e); }
        // Errors reach the caller as exceptions (named here); ONNX Runtime's own log lines would repeat them, or add shape-merge notes, on stderr.
        so.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        if (options is { AllowSpinning: false }) so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        InferenceSession session;
        try { session = new InferenceSession(path, so); }
        catch (OnnxRuntimeException e) { throw new InvalidDataException($"ONNX Runtime cannot load '{path}': {e.Message}", e); }
        finally { so.Dispose(); }
        try { return new OnnxRuntimeBackend(path, session) { Providers = plan.Select(p => p.OrtName).ToArray() }; }
        catch { session.Dispose(); throw; }
    }

    /// <summary>float32 [B,3,H,W] RGB 0–1 → float32 [B, 4+nc, anchors] on the CPU (a detection export only; [B, max_det, 6] with <see cref="NmsInGraph"/>; a classifier's [B, nc] probabilities).</summary>
    public Tensor Forward(Tensor images)
    {
        if (_protoName is not null)
            throw new NotSupportedException($"ONNX model '{Path}' is a segmentation model: its outputs come from ForwardOutputs (predictions and prototypes)");
        return RunAll(images, new[] { _outputName })[0];
    }

    /// <summary>Every output: [B, 4+nc(+nm), anchors], and for segmentation the prototypes [B, nm, H/4, W/4].</summary>
    public Tensor[] ForwardOutputs(Tensor images) =>
        RunAll(images, _protoName is null ? new[] { _outputName } : new[] { _outputName, _protoName });

    Tensor[] RunAll(Tensor images, string[] outputNames)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"images must be [B,3,H,W]; got [{string.Join(", ", images.shape)}]");
        long batch = images.shape[0], h = images.shape[2], w = images.shape[3];
        if (_fixedHeight is int fh && _fixedWidth is int fw && (h != fh || w != fw))
            throw new ArgumentException($"ONNX model '{Path}' was exported for {fh}x{fw} (HxW) inputs; got {h}x{w}. Re-export with dynamic=True or letterbox to its size");
        if (!_classifier && (h % Stride != 0 || w % Stride != 0)) // a classifier pools whatever size it gets
            throw new ArgumentException($"input {h}x{w} is not a multiple of the model's stride {Stride}");

        using var scope = NewDisposeScope();
        var x = images.detach().to(CPU).to_type(ScalarType.Float32).contiguous();
        var data = x.data<float>().ToArray();
        long chunk = _fixedBatch ?? batch;
        var outs = outputNames.Select(_ => new List<Tensor>()).ToArray();
        for (long start = 0; start < batch; start += chunk)
        {
            long n = Math.Min(chunk, batch - start);
            long per = 3 * h * w;
            var slice = new float[chunk * per]; // a fixed-batch model's last chunk is padded with zeros
            Array.Copy(data, start * per, slice, 0, n * per);
            var ys = Run(slice, new[] { chunk, 3, h, w }, outputNames);
            for (int k = 0; k < ys.Length; k++) outs[k].Add(n < chunk ? ys[k].narrow(0, 0, n) : ys[k]);
        }
        return outs.Select(o => (o.Count == 1 ? o[0] : cat(o, 0)).MoveToOuterDisposeScope()).ToArray();
    }

    Tensor[] Run(float[] input, long[] shape, string[] outputNames)
    {
        using var value = IsHalf
            ? OrtValue.CreateTensorValueFromMemory(ToFloat16(input), shape)
            : OrtValue.CreateTensorValueFromMemory(input, shape);
        IDisposableReadOnlyCollection<OrtValue> results;
        try { results = _session.Run(_run, new[] { _inputName }, new[] { value }, outputNames); }
        catch (OnnxRuntimeException e) { throw new InvalidDataException($"ONNX model '{Path}' failed on a [{string.Join(", ", shape)}] input: {e.Message}", e); }
        using var _ = results;
        var tensors = new Tensor[outputNames.Length];
        for (int k = 0; k < outputNames.Length; k++)
        {
            var output = results[k];
            var info = output.GetTensorTypeAndShape();
            float[] values = info.ElementDataType switch
            {
                TensorElementType.Float => output.GetTensorDataAsSpan<float>().ToArray(),
                TensorElementType.Float16 => FromFloat16(output.GetTensorDataAsSpan<Float16>()),
                var t => throw new InvalidDataException($"ONNX model '{Path}': output '{outputNames[k]}' is {t}; expected float or float16"),
            };
            tensors[k] = tensor(values, info.Shape);
        }
        return tensors;
    }

    static Float16[] ToFloat16(float[] src)
    {
        var dst = new Float16[src.Length];
        TensorPrimitives.ConvertToHalf(src, MemoryMarshal.Cast<Float16, Half>(dst.AsSpan()));
        return dst;
    }

    static float[] FromFloat16(ReadOnlySpan<Float16> src)
    {
        var dst = new float[src.Length];
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(src), dst);
        return dst;
    }

    public override string ToString() =>
        $"ONNX Runtime: {System.IO.Path.GetFileName(Path)} ({Names.Count} classes, {(DynamicShape ? "dynamic" : $"{_fixedHeight}x{_fixedWidth}")}, {(IsHalf ? "fp16" : "fp32")})";

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
