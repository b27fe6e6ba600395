using Strix.Nn;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Models;

/// <summary>
/// A YOLOv8 detector built from the architecture table (backbone + PAN head + Detect) at any scale
/// and class count. Sub-modules are registered as <c>model.N…</c> with Ultralytics' attribute names,
/// so parameter names match Ultralytics checkpoints one to one.
/// <see cref="forward"/> returns the raw per-level head maps (for the loss);
/// <see cref="Predict"/> returns decoded [B, 4+nc, anchors] (pixel xywh, class scores).
/// </summary>
public sealed class DetectionModel : Module<Tensor, Tensor[]>
{
    /// <summary>One row of the architecture table.</summary>
    public sealed record Layer(int Index, int[] From, int Repeats, string Type, string Arguments, Module Module);

    public ModuleList<Module> model;
    readonly List<Layer> _layers = new();
    readonly HashSet<int> _saved = new();

    public YoloScale Scale { get; }
    public int NumClasses { get; }
    public IReadOnlyList<Layer> Layers => _layers;
    /// <summary>The Detect head (the last layer). A computed property, so it is not registered twice.</summary>
    public Detect Head => (Detect)model[^1];
    public float[] Strides => Head.Strides;
    /// <summary>Largest stride: input sizes must be a multiple of it.</summary>
    public int MaxStride => (int)Strides.Max();

    public DetectionModel(YoloScale scale, int numClasses = 80, int inputChannels = 3) : base("DetectionModel")
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), "a detector needs at least one class");
        Scale = scale;
        NumClasses = numClasses;
        int C(int c) => scale.Channels(c);
        int R(int n) => scale.Repeats(n);
        var ch = new List<int>();
        var modules = new List<Module>();

        void Add(int[] from, int repeats, string type, string arguments, Module m, int cOut)
        {
            _layers.Add(new Layer(_layers.Count, from, repeats, type, arguments, m));
            modules.Add(m);
            ch.Add(cOut);
            foreach (var f in from) if (f != -1) _saved.Add(f);
        }
        int Prev() => ch.Count == 0 ? inputChannels : ch[^1];

        void AddConv(int c2, int k, int s) { int c1 = Prev(), co = C(c2); Add(new[] { -1 }, 1, "Conv", $"[{c1}, {co}, {k}, {s}]", new Conv(c1, co, k, s), co); }
        void AddC2f(int c2, int n, bool shortcut, int[]? from = null)
        {
            int c1 = from is null ? Prev() : from.Sum(f => f == -1 ? ch[^1] : ch[f]);
            int co = C(c2), reps = R(n);
            Add(new[] { -1 }, reps, "C2f", $"[{c1}, {co}, {reps}, {shortcut}]", new C2f(c1, co, reps, shortcut), co);
        }
        void AddUpsample() => Add(new[] { -1 }, 1, "Upsample", "[None, 2, 'nearest']",
            Upsample(scale_factor: new double[] { 2, 2 }, mode: UpsampleMode.Nearest), Prev());
        void AddConcat(int other) => Add(new[] { -1, other }, 1, "Concat", "[1]", new Concat(1), ch[^1] + ch[other]);

        // Backbone
        AddConv(64, 3, 2);            // 0  P1/2
        AddConv(128, 3, 2);           // 1  P2/4
        AddC2f(128, 3, true);         // 2
        AddConv(256, 3, 2);           // 3  P3/8
        AddC2f(256, 6, true);         // 4
        AddConv(512, 3, 2);           // 5  P4/16
        AddC2f(512, 6, true);         // 6
        AddConv(1024, 3, 2);          // 7  P5/32
        AddC2f(1024, 3, true);        // 8
        { int c1 = Prev(), co = C(1024); Add(new[] { -1 }, 1, "SPPF", $"[{c1}, {co}, 5]", new SPPF(c1, co, 5), co); } // 9
        // Head (PAN)
        AddUpsample();                // 10
        AddConcat(6);                 // 11 cat backbone P4
        AddC2f(512, 3, false);        // 12
        AddUpsample();                // 13
        AddConcat(4);                 // 14 cat backbone P3
        AddC2f(256, 3, false);        // 15 (P3/8-small)
        AddConv(256, 3, 2);           // 16
        AddConcat(12);                // 17 cat head P4
        AddC2f(512, 3, false);        // 18 (P4/16-medium)
        AddConv(512, 3, 2);           // 19
        AddConcat(9);                 // 20 cat head P5
        AddC2f(1024, 3, false);       // 21 (P5/32-large)
        var detectIn = new[] { ch[15], ch[18], ch[21] };
        var head = new Detect(numClasses, detectIn);
        Add(new[] { 15, 18, 21 }, 1, "Detect", $"[{numClasses}, [{string.Join(", ", detectIn)}]]", head, 0);

        model = new ModuleList<Module>(modules.ToArray());
        RegisterComponents();
        head.InitializeBiases();
    }

    /// <summary>Builds a model from a scale name such as "yolov8n".</summary>
    public static DetectionModel Create(string scale, int numClasses = 80) => new(YoloScale.Parse(scale), numClasses);

    /// <summary>Raw per-level head outputs [B, 4·16 + nc, H/s, W/s] for s = 8, 16, 32.</summary>
    public override Tensor[] forward(Tensor x)
    {
        var outputs = new Tensor?[_layers.Count];
        Tensor? cur = x;
        Tensor[]? result = null;
        using var scope = NewDisposeScope();
        foreach (var layer in _layers)
        {
            switch (layer.Module)
            {
                case Detect d:
                    result = d.call(layer.From.Select(f => outputs[f]!).ToArray());
                    break;
                case Concat c:
                    cur = c.call(layer.From.Select(f => f == -1 ? cur! : outputs[f]!).ToArray());
                    break;
                case Module<Tensor, Tensor> m:
                    cur = m.call(cur!);
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
        using var scope = NewDisposeScope();
        var raw = forward(x);
        return Head.Decode(raw).MoveToOuterDisposeScope();
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
