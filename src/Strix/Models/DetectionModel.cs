using Strix.Models.Architecture;
using Strix.Nn;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Models;

/// <summary>
/// A YOLO network built from an architecture file (<see cref="ModelSpec"/>: YOLOv8, YOLO11, their variants or a
/// user's own YAML) at a scale and class count: a detector, or with a <see cref="Segment"/> or <see cref="Classify"/>
/// head a segmentation model or a classifier (<see cref="Task"/>). Sub-modules are registered as <c>model.N…</c> with Ultralytics'
/// attribute names, so parameter names match Ultralytics checkpoints one to one.
/// <see cref="forward"/> returns the raw per-level head maps (for the loss), or a classifier's one [B, nc] logits;
/// <see cref="Predict"/> returns decoded [B, 4+nc, anchors] (pixel xywh, class scores), <see cref="Classify"/> probabilities.
/// </summary>
public sealed class DetectionModel : Module<Tensor, Tensor[]>
{
    /// <summary>
    /// One row of the architecture table: <see cref="From"/> as written; <see cref="Inputs"/> the same layers as absolute
    /// indices, −1 still meaning the previous layer (what forward and export read).
    /// </summary>
    public sealed record Layer(int Index, int[] From, int[] Inputs, int Repeats, string Type, string Arguments, Module Module);

    public ModuleList<Module> model;
    readonly List<Layer> _layers = new();
    readonly HashSet<int> _saved = new();
    readonly double _outputStride;

    /// <summary>The architecture the model was built from.</summary>
    public ModelSpec Spec { get; }
    public YoloScale Scale { get; }
    public int NumClasses { get; }
    public int InputChannels => Spec.InputChannels;
    /// <summary>File-style name: <c>yolov8n</c>, <c>yolo11s</c>, <c>yolov8m-p2</c>.</summary>
    public string Name => Spec.ModelName(Scale);
    /// <summary>The name as Ultralytics prints it: <c>YOLOv8n</c>, <c>YOLO11s</c>.</summary>
    public string DisplayName => Spec.DisplayName(Scale);
    public IReadOnlyList<Layer> Layers => _layers;
    /// <summary>The Detect head (the last layer); a classifier has none. A computed property, so it is not registered twice.</summary>
    public Detect Head => model[^1] as Detect
        ?? throw new NotSupportedException($"{Name} is a classification model: it has no Detect head (boxes need a detection model, e.g. {Name.Replace("-cls", "")})");
    /// <summary>A pose model's [keypoints, values per keypoint]; null for the other tasks.</summary>
    public int[]? KptShape => model[^1] is Pose p ? new[] { p.NumKeypoints, p.KeypointDims } : null;
    /// <summary>A classifier's head, or null for a detector.</summary>
    public Classify? ClassifyHead => model[^1] as Classify;
    /// <summary>The detection head's output strides; a classifier's one: the stride of the map it pools.</summary>
    public float[] Strides => ClassifyHead is null ? Head.Strides : new[] { (float)_outputStride };
    /// <summary>
    /// The task the head was built for (Ultralytics' names): <c>segment</c> for a <see cref="Segment"/> head,
    /// <c>classify</c> for a <see cref="Classify"/> head, else <c>detect</c>.
    /// </summary>
    public string Task => model[^1] switch { Segment => "segment", Pose => "pose", OBB => "obb", Classify => "classify", _ => "detect" };

    /// <summary>
    /// Throws <see cref="NotSupportedException"/> for a segmentation model, so a detection-only path (its loss,
    /// validator, exporter, predictor) refuses it by name instead of misreading the mask outputs as classes.
    /// </summary>
    public void RequireDetectionHead(string what)
    {
        if (ClassifyHead is not null)
            throw new NotSupportedException($"{Name} is a classification model; {what} works on detection models only (use e.g. {Name.Replace("-cls", "")}, or the classify task's own path)");
        if (Head is Segment)
            throw new NotSupportedException($"{Name} is a segmentation model; {what} works on detection models only (use e.g. {Name.Replace("-seg", "")}, or the segment task's own path)");
        if (Head is OBB)
            throw new NotSupportedException($"{Name} is an oriented-box (OBB) model; {what} works on detection models only (use e.g. {Name.Replace("-obb", "")}, or the OBB path)");
        if (Head is Pose)
            throw new NotSupportedException($"{Name} is a pose model; {what} works on detection models only (use e.g. {Name.Replace("-pose", "")}, or the pose path)");
    }
    /// <summary>Largest stride: input sizes must be a multiple of it.</summary>
    public int MaxStride => (int)Strides.Max();

    /// <summary>Most parameters a built model may have (the largest YOLO, v8x-p6, has 97 M).</summary>
    public const long MaxParameters = 1L << 30;

    /// <summary>A YOLOv8 model at <paramref name="scale"/> (the built-in yolov8 architecture).</summary>
    public DetectionModel(YoloScale scale, int numClasses = 80) : this(ModelCatalog.YoloV8, scale, numClasses) { }

    /// <summary>Builds <paramref name="spec"/> at <paramref name="scale"/> with <paramref name="numClasses"/> classes.</summary>
    public DetectionModel(ModelSpec spec, YoloScale scale, int numClasses = 80) : base("DetectionModel")
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), "a detector needs at least one class");
        Spec = spec;
        Scale = scale;
        NumClasses = numClasses;
        var built = new List<BuiltLayer>();
        try
        {
            long parameters = 0;
            foreach (var row in spec.Layers)
            {
                if (built.Count > 0 && built[^1].Module is Detect or Classify)
                    throw new InvalidDataException($"{spec.Source}:{row.Line}: layer {row.Index} follows the {built[^1].Row.Module} head, which must be the last layer");
                built.Add(LayerFactory.Build(row, spec, scale, numClasses, built));
                // A model file is built before any weight is read: stop one that claims more than any real network.
                parameters += built[^1].Module.parameters().Sum(p => p.numel());
                if (parameters > MaxParameters)
                    throw new InvalidDataException($"{spec.Source}:{row.Line}: the model passes {MaxParameters} parameters at layer {row.Index}, far beyond any real network");
            }
            if (built.Count == 0 || built[^1].Module is not (Detect or Classify))
                throw new InvalidDataException($"{spec.Source}: the last layer must be a head (Detect, Segment or Classify)");
        }
        catch
        {
            foreach (var b in built) b.Module.Dispose();
            throw;
        }
        foreach (var b in built)
        {
            var row = b.Row;
            var inputs = row.ResolvedFrom;
            _layers.Add(new Layer(row.Index, row.From, inputs, Scale.Repeats(row.Repeats), row.Module, b.Arguments, b.Module));
            foreach (var f in inputs) if (f != -1) _saved.Add(f);
        }
        _outputStride = built[^1].Stride;
        model = new ModuleList<Module>(built.Select(b => b.Module).ToArray());
        RegisterComponents();
        (model[^1] as Detect)?.InitializeBiases();
    }

    /// <summary>
    /// Builds a model from a name: <c>yolov8n</c>, <c>yolo11s</c>, <c>yolov8m-p2</c>, <c>yolo11n.yaml</c>, or the path of a
    /// model YAML file.
    /// </summary>
    public static DetectionModel Create(string name, int numClasses = 80)
    {
        var (spec, scale) = ModelCatalog.Resolve(name)
            ?? throw new ArgumentException($"'{name}' names no model (built in: {string.Join(", ", ModelCatalog.Families.Select(f => f + ".yaml"))} at scales n, s, m, l, x, e.g. yolo11n; or a model .yaml file)");
        return new DetectionModel(spec, scale, numClasses);
    }

    /// <summary>The same architecture and scale with another class count, freshly initialised (for fine-tuning).</summary>
    public DetectionModel WithClasses(int numClasses) => new(Spec, Scale, numClasses);

    /// <summary>Raw per-level head outputs [B, 4·16 + nc, H/s, W/s], one per stride in <see cref="Strides"/>; a classifier's [B, nc] logits.</summary>
    public override Tensor[] forward(Tensor x)
    {
        var outputs = new Tensor?[_layers.Count];
        Tensor? cur = x;
        Tensor[]? result = null;
        using var scope = NewDisposeScope();
        foreach (var layer in _layers)
        {
            var from = layer.Inputs;
            Tensor Input(int f) => f == -1 ? cur! : outputs[f]!;
            switch (layer.Module)
            {
                case Detect d:
                    result = d.call(from.Select(Input).ToArray());
                    break;
                case Classify head:
                    result = new[] { head.call(Input(from[0])) };
                    break;
                case Concat c:
                    cur = c.call(from.Select(Input).ToArray());
                    break;
                case Module<Tensor, Tensor> m:
                    cur = m.call(Input(from[0]));
                    break;
                default:
                    throw new InvalidOperationException($"layer {layer.Index} ({layer.Type}) has no tensor forward");
            }
            if (_saved.Contains(layer.Index)) outputs[layer.Index] = cur;
        }
        foreach (var r in result!) r.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>Decoded predictions [B, 4+nc, anchors]: pixel xywh and per-class scores (Ultralytics' layout).</summary>
    public Tensor Predict(Tensor x)
    {
        RequireDetectionHead(nameof(Predict));
        using var scope = NewDisposeScope();
        var raw = forward(x);
        return Head.Decode(raw).MoveToOuterDisposeScope();
    }

    /// <summary>A pose model's decoded output, Ultralytics' output0: [B, 4 + nc + K·D, anchors] (pixel xywh, class scores, keypoints in pixels with visibility probabilities).</summary>
    public Tensor PredictPose(Tensor x)
    {
        var head = Head as Pose ?? throw new NotSupportedException($"{Name} is a {Task} model; {nameof(PredictPose)} needs a pose model (e.g. yolov8n-pose)");
        using var scope = NewDisposeScope();
        return head.DecodePose(forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>An OBB model's decoded output, Ultralytics' output0: [B, 4 + nc + 1, anchors] (rotated centre and size in pixels, class scores, angle in radians).</summary>
    public Tensor PredictObb(Tensor x)
    {
        var head = Head as OBB ?? throw new NotSupportedException($"{Name} is a {Task} model; {nameof(PredictObb)} needs an OBB model (e.g. yolov8n-obb)");
        using var scope = NewDisposeScope();
        return head.DecodeObb(forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>A classifier's class probabilities [B, nc] (softmax of the logits).</summary>
    public Tensor PredictClasses(Tensor x)
    {
        if (ClassifyHead is null) throw new NotSupportedException($"{Name} is a {Task} model; {nameof(PredictClasses)} needs a classification model (e.g. yolov8n-cls)");
        using var scope = NewDisposeScope();
        return Nn.Classify.Probabilities(forward(x)[0]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A segmentation model's decoded outputs, Ultralytics' output0 and output1: [B, 4 + nc + nm, anchors] (pixel xywh,
    /// class scores, mask coefficients) and the prototypes [B, nm, H/4, W/4].
    /// </summary>
    public (Tensor Predictions, Tensor Prototypes) PredictMasks(Tensor x)
    {
        var head = Head as Segment ?? throw new NotSupportedException($"{Name} is a detection model; {nameof(PredictMasks)} needs a segmentation model (e.g. {Name}-seg)");
        using var scope = NewDisposeScope();
        var (p, protos) = head.DecodeMasks(forward(x));
        p.MoveToOuterDisposeScope(); protos.MoveToOuterDisposeScope();
        return (p, protos);
    }

    /// <summary>Folds every Conv's batch norm into its convolution (inference only; irreversible).</summary>
    public DetectionModel Fuse()
    {
        foreach (var m in modules()) if (m is Conv c) c.Fuse();
        return this;
    }

    public bool IsFused => modules().OfType<Conv>().All(c => c.IsFused);

    /// <summary>Total number of parameters (as Ultralytics counts them, the fixed DFL weights included).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>Parameters that receive gradients.</summary>
    public long GradientCount() => parameters().Where(p => p.requires_grad).Sum(p => p.numel());
}
