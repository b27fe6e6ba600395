using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// YOLOv8-seg's head: <see cref="Detect"/> plus <see cref="Proto"/> (nm prototype masks at stride 4, from the first
/// level) and, per level, a third branch (cv4: Conv 3×3, Conv 3×3, 1×1 → nm mask coefficients per anchor).
/// A detection's mask is sigmoid(coefficients · prototypes), cropped to its box.
/// </summary>
public sealed class Segment : Detect
{
    public const int DefaultMasks = 32, DefaultPrototypeChannels = 256;

    public Proto proto;
    public ModuleList<Sequential> cv4;

    /// <summary>Mask coefficients per anchor (nm, 32 in Ultralytics' models).</summary>
    public int NumMasks { get; }
    /// <summary>Hidden width of the prototype branch (npr after width scaling: 64 for the n scale).</summary>
    public int PrototypeChannels { get; }
    public int MaskHidden { get; }

    /// <summary>nc classes, nm masks, npr prototype channels (already scaled), over levels of ch channels.</summary>
    public Segment(int nc, int nm, int npr, int[] ch, float[]? strides = null, bool legacy = true, int regMax = DefaultRegMax)
        : base(nameof(Segment), nc, ch, strides, legacy, regMax)
    {
        if (nm < 1 || npr < 1) throw new ArgumentException($"Segment: {nm} masks and {npr} prototype channels must both be positive");
        NumMasks = nm;
        PrototypeChannels = npr;
        MaskHidden = Math.Max(ch[0] / 4, nm);
        proto = new Proto(ch[0], npr, nm);
        cv4 = new ModuleList<Sequential>(ch.Select(x => Sequential(
            new Conv(x, MaskHidden, 3), new Conv(MaskHidden, MaskHidden, 3), Conv2d(MaskHidden, nm, 1))).ToArray());
        RegisterComponents();
    }

    /// <summary>
    /// Per level [B, 4·reg_max + nc + nm, H, W] (box logits, class logits, mask coefficients), then the prototypes
    /// [B, nm, H₀·2, W₀·2] as the last element.
    /// </summary>
    public override Tensor[] forward(Tensor[] x) => Levels(x, cv4).Append(Autocast.Float32(proto.call(x[0]))).ToArray();

    /// <summary>
    /// The head's outputs → Ultralytics' two inference outputs: [B, 4 + nc + nm, A] (pixel xywh, class probabilities,
    /// raw mask coefficients) and the prototypes [B, nm, H/4, W/4].
    /// </summary>
    public (Tensor Predictions, Tensor Prototypes) DecodeMasks(Tensor[] outputs)
    {
        if (outputs.Length != NumLevels + 1) throw new ArgumentException($"Segment.DecodeMasks: expected {NumLevels} levels and the prototypes, got {outputs.Length} tensors");
        using var scope = NewDisposeScope();
        long b = outputs[0].shape[0];
        var det = new Tensor[NumLevels];
        var coefs = new Tensor[NumLevels];
        for (int i = 0; i < NumLevels; i++)
        {
            var parts = outputs[i].split(new long[] { NumOutputs, NumMasks }, 1);
            det[i] = parts[0];
            coefs[i] = parts[1].reshape(b, NumMasks, -1);
        }
        var predictions = cat(new[] { Decode(det), cat(coefs, 2) }, 1);
        return (predictions.MoveToOuterDisposeScope(), outputs[NumLevels].alias().MoveToOuterDisposeScope());
    }
}
