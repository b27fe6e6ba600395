using Strix.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// YOLOv8-OBB's head: <see cref="Detect"/> plus, per level, an angle branch (cv4: Conv 3×3, Conv 3×3, 1×1 → ne = 1
/// value per anchor). The angle is (sigmoid(raw) − ¼)·π, in [−π/4, 3π/4); the box distances are measured in the box's
/// own rotated frame, so the centre moves by the rotated half-difference of the distances (dist2rbox) and the size is
/// their sum.
/// </summary>
public sealed class OBB : Detect
{
    public ModuleList<Sequential> cv4;

    /// <summary>Extra values per anchor (ne: 1, the angle).</summary>
    public int NumExtra { get; }
    public int AngleHidden { get; }

    /// <summary>nc classes and <paramref name="ne"/> angle values over levels of ch channels.</summary>
    public OBB(int nc, int ne, int[] ch, float[]? strides = null, bool legacy = true, int regMax = DefaultRegMax)
        : base(nameof(OBB), nc, ch, strides, legacy, regMax)
    {
        if (ne != 1) throw new ArgumentException($"OBB: ne={ne}; oriented boxes have one angle per anchor");
        NumExtra = ne;
        AngleHidden = Math.Max(ch[0] / 4, ne);
        cv4 = new ModuleList<Sequential>(ch.Select(x => Sequential(
            new Conv(x, AngleHidden, 3), new Conv(AngleHidden, AngleHidden, 3), Conv2d(AngleHidden, ne, 1))).ToArray());
        RegisterComponents();
    }

    /// <summary>Per level [B, 4·reg_max + nc + 1, H, W]: box logits, class logits, the raw angle.</summary>
    public override Tensor[] forward(Tensor[] x) => Levels(x, cv4);

    /// <summary>The angle in radians from its raw value: (sigmoid(raw) − ¼)·π.</summary>
    public static Tensor Angle(Tensor raw)
    {
        using var scope = NewDisposeScope();
        return raw.sigmoid().Minus(0.25).Times(Math.PI).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The per-level maps → Ultralytics' inference output [B, 4 + nc + 1, A]: the rotated box's centre and size in pixels
    /// (x, y, w, h), class probabilities, and its angle in radians.
    /// </summary>
    public Tensor DecodeObb(Tensor[] outputs)
    {
        if (outputs.Length != NumLevels) throw new ArgumentException($"OBB.DecodeObb: expected {NumLevels} levels, got {outputs.Length} tensors");
        using var scope = NewDisposeScope();
        long b = outputs[0].shape[0];
        var flat = cat(outputs.Select(o => o.view(b, NumOutputs + NumExtra, -1)).ToArray(), 2);
        var parts = flat.split(new long[] { 4 * RegMax, NumClasses, NumExtra }, 1);
        var level = outputs.Select(o => o.narrow(1, 0, 1)).ToArray(); // only the map sizes matter for the anchors
        var (anchors, strides) = Anchors.Make(level, Strides, 0.5);
        var angle = Angle(parts[2]);
        var dist = dfl.call(parts[0]);
        var boxes = DistToRotatedBox(dist, angle, anchors.transpose(0, 1).unsqueeze(0)).mul(strides.transpose(0, 1));
        return cat(new[] { boxes, parts[1].sigmoid(), angle }, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// dist2rbox: distances (l, t, r, b) [B, 4, A] measured along the box's rotated axes, the angle [B, 1, A] and anchor
    /// points [1, 2, A] → centre (anchor + R·((r − l)/2, (b − t)/2)) and size (l + r, t + b), in grid units.
    /// </summary>
    public static Tensor DistToRotatedBox(Tensor dist, Tensor angle, Tensor anchors)
    {
        using var scope = NewDisposeScope();
        var lt_rb = dist.chunk(2, 1);
        var half = lt_rb[1].sub(lt_rb[0]).Over(2.0);
        var xf = half.narrow(1, 0, 1);
        var yf = half.narrow(1, 1, 1);
        var cos = angle.cos();
        var sin = angle.sin();
        var x = xf.mul(cos).sub(yf.mul(sin));
        var y = xf.mul(sin).Plus(yf.mul(cos));
        var xy = cat(new[] { x, y }, 1).Plus(anchors);
        return cat(new[] { xy, lt_rb[0].Plus(lt_rb[1]) }, 1).MoveToOuterDisposeScope();
    }
}
