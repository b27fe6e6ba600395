using Strix.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// YOLO's anchor-free decoupled head. For each pyramid level (strides 8, 16, 32 in the standard models) a box
/// branch (cv2: Conv, Conv, 1×1 → 4·reg_max distribution logits) and a class branch (cv3 → nc logits): two
/// 3×3 Convs in YOLOv8's layout (<see cref="Legacy"/>), two depth-wise-separable pairs (DWConv 3×3, Conv 1×1)
/// in YOLO11's, then the 1×1 prediction conv. <see cref="forward"/> returns the raw per-level maps used by the loss;
/// <see cref="Decode"/> turns them into Ultralytics' inference layout [B, 4+nc, anchors]:
/// pixel xywh boxes followed by sigmoid class scores.
/// </summary>
public class Detect : Module<Tensor[], Tensor[]>
{
    public const int DefaultRegMax = 16;

    public ModuleList<Sequential> cv2, cv3;
    public DFL dfl;

    public int NumClasses { get; }
    public int RegMax { get; }
    /// <summary>Outputs per anchor: 4·reg_max + nc.</summary>
    public int NumOutputs => NumClasses + 4 * RegMax;
    public int NumLevels { get; }
    /// <summary>Strides of the pyramid levels (input pixels per cell), from the architecture.</summary>
    public float[] Strides { get; }
    /// <summary>True for YOLOv8's class branch (plain 3×3 Convs), false for YOLO11's depth-wise-separable one.</summary>
    public bool Legacy { get; }
    /// <summary>Input channels per level (for FLOPs and export).</summary>
    public int[] InChannels { get; }
    public int BoxHidden { get; }
    public int ClassHidden { get; }

    /// <summary>A head for nc classes over levels of ch channels at the given strides (null: 8, 16, 32); legacy picks YOLOv8's class branch.</summary>
    public Detect(int nc, int[] ch, float[]? strides = null, bool legacy = true, int regMax = DefaultRegMax)
        : this(nameof(Detect), nc, ch, strides, legacy, regMax) { }

    /// <summary>For heads that extend Detect (<see cref="Segment"/>); they register their components themselves.</summary>
    protected Detect(string name, int nc, int[] ch, float[]? strides, bool legacy, int regMax) : base(name)
    {
        strides ??= new float[] { 8, 16, 32 };
        if (strides.Length != ch.Length) throw new ArgumentException($"Detect: {ch.Length} input levels but {strides.Length} strides");
        NumClasses = nc;
        RegMax = regMax;
        NumLevels = ch.Length;
        InChannels = ch;
        Strides = strides;
        Legacy = legacy;
        BoxHidden = Math.Max(Math.Max(16, ch[0] / 4), regMax * 4);
        ClassHidden = Math.Max(ch[0], Math.Min(nc, 100));
        cv2 = new ModuleList<Sequential>(ch.Select(x => Sequential(
            new Conv(x, BoxHidden, 3), new Conv(BoxHidden, BoxHidden, 3), Conv2d(BoxHidden, 4 * regMax, 1))).ToArray());
        int c3 = ClassHidden;
        cv3 = new ModuleList<Sequential>(ch.Select(x => legacy
            ? Sequential(new Conv(x, c3, 3), new Conv(c3, c3, 3), Conv2d(c3, nc, 1))
            : Sequential(Sequential(new DWConv(x, x, 3), new Conv(x, c3, 1)),
                         Sequential(new DWConv(c3, c3, 3), new Conv(c3, c3, 1)), Conv2d(c3, nc, 1))).ToArray());
        dfl = new DFL(regMax);
        if (GetType() == typeof(Detect)) RegisterComponents();
    }

    /// <summary>Per level: [B, 4·reg_max + nc, H, W] (box logits first, then class logits).</summary>
    public override Tensor[] forward(Tensor[] x) => Levels(x, null);

    /// <summary>
    /// Per level the box and class maps, followed by <paramref name="extra"/>'s maps when given: the task branch of a head
    /// that extends Detect (Segment's mask coefficients, Pose's keypoints, OBB's angle).
    /// </summary>
    protected Tensor[] Levels(Tensor[] x, ModuleList<Sequential>? extra)
    {
        var outs = new Tensor[NumLevels];
        for (int i = 0; i < NumLevels; i++)
        {
            using var box = Branch(cv2[i], x[i]);
            using var cls = Branch(cv3[i], x[i]);
            using var more = extra is null ? null : Branch(extra[i], x[i]);
            outs[i] = cat(more is null ? new[] { box, cls } : new[] { box, cls, more }, 1);
        }
        return outs;
    }

    /// <summary>The hidden stages, then the 1×1 prediction conv (through <see cref="Autocast"/>); the maps come out in fp32.</summary>
    protected static Tensor Branch(Sequential branch, Tensor x)
    {
        using var h1 = Stage(branch[0], x);
        using var h2 = Stage(branch[1], h1);
        return Autocast.Float32(Autocast.Conv2d((Conv2d)branch[2], h2)); // Float32 disposes its argument after the conversion, so holds it until then
    }

    /// <summary>One hidden stage: a Conv, or (YOLO11) a DWConv then a 1×1 Conv.</summary>
    static Tensor Stage(object stage, Tensor x)
    {
        if (stage is Conv c) return c.call(x);
        var pair = (Sequential)stage;
        using var h = ((Conv)pair[0]).call(x);
        return ((Conv)pair[1]).call(h);
    }

    /// <summary>
    /// Initialises the final biases the way YOLOv8 does: box logits at 1.0, class logits at
    /// log(5 / nc / (640 / stride)²), i.e. a prior of about 5 objects per 640² image.
    /// </summary>
    public void InitializeBiases()
    {
        using var _ = no_grad();
        for (int i = 0; i < NumLevels; i++)
        {
            using var prior = Math.Log(5.0 / NumClasses / Math.Pow(640.0 / Strides[i], 2)).ToScalar();
            ((Conv2d)cv2[i][2]).bias!.fill_(Scalars.One);
            ((Conv2d)cv3[i][2]).bias!.fill_(prior);
        }
    }

    /// <summary>Raw maps → [B, 4+nc, A]: xywh in input pixels, then class probabilities.</summary>
    public Tensor Decode(Tensor[] feats)
    {
        using var scope = NewDisposeScope();
        long b = feats[0].shape[0];
        var flat = cat(feats.Select(f => f.view(b, NumOutputs, -1)).ToArray(), 2);
        var parts = flat.split(new long[] { 4 * RegMax, NumClasses }, 1);
        var (anchors, strides) = Anchors.Make(feats, Strides, 0.5);
        var dist = dfl.call(parts[0]);
        var boxes = Anchors.DistToBox(dist, anchors.transpose(0, 1).unsqueeze(0), xywh: true, dim: 1) * strides.transpose(0, 1);
        return cat(new[] { boxes, parts[1].sigmoid() }, 1).MoveToOuterDisposeScope();
    }
}
