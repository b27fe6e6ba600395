using Strix.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// YOLOv8-pose's head: <see cref="Detect"/> plus, per level, a keypoint branch (cv4: Conv 3×3, Conv 3×3, 1×1 →
/// K·D numbers per anchor for K keypoints of D values: x, y and, with D = 3, a visibility logit). A keypoint's
/// position is (2·raw + cell) · stride, where cell is the anchor's grid cell (its centre − ½): keypoints may lie
/// anywhere within two cells of the anchor's scale, not only inside the box.
/// </summary>
public sealed class Pose : Detect
{
    /// <summary>COCO's person keypoints, the default shape: 17 points of (x, y, visible).</summary>
    public static readonly int[] DefaultKeypointShape = { 17, 3 };

    public ModuleList<Sequential> cv4;

    /// <summary>Keypoints per object (K).</summary>
    public int NumKeypoints { get; }
    /// <summary>Values per keypoint (D): 2 (x, y) or 3 (x, y, visibility).</summary>
    public int KeypointDims { get; }
    /// <summary>K·D outputs per anchor.</summary>
    public int KeypointOutputs => NumKeypoints * KeypointDims;
    public int KeypointHidden { get; }

    /// <summary>nc classes and <paramref name="kptShape"/> [K, D] keypoints over levels of ch channels.</summary>
    public Pose(int nc, int[] kptShape, int[] ch, float[]? strides = null, bool legacy = true, int regMax = DefaultRegMax)
        : base(nameof(Pose), nc, ch, strides, legacy, regMax)
    {
        if (kptShape.Length != 2 || kptShape[0] is < 1 or > 1000 || kptShape[1] is not (2 or 3))
            throw new ArgumentException($"Pose: kpt_shape [{string.Join(", ", kptShape)}] must be [K, 2] or [K, 3] with 1 ≤ K ≤ 1000");
        NumKeypoints = kptShape[0];
        KeypointDims = kptShape[1];
        KeypointHidden = Math.Max(ch[0] / 4, KeypointOutputs);
        cv4 = new ModuleList<Sequential>(ch.Select(x => Sequential(
            new Conv(x, KeypointHidden, 3), new Conv(KeypointHidden, KeypointHidden, 3), Conv2d(KeypointHidden, KeypointOutputs, 1))).ToArray());
        RegisterComponents();
    }

    /// <summary>Per level [B, 4·reg_max + nc + K·D, H, W]: box logits, class logits, raw keypoints.</summary>
    public override Tensor[] forward(Tensor[] x) => Levels(x, cv4);

    /// <summary>The per-level maps → Ultralytics' inference output [B, 4 + nc + K·D, A]: pixel xywh, class probabilities, keypoints in pixels (visibility as a probability).</summary>
    public Tensor DecodePose(Tensor[] outputs)
    {
        if (outputs.Length != NumLevels) throw new ArgumentException($"Pose.DecodePose: expected {NumLevels} levels, got {outputs.Length} tensors");
        using var scope = NewDisposeScope();
        long b = outputs[0].shape[0];
        var det = new Tensor[NumLevels];
        var kpts = new Tensor[NumLevels];
        for (int i = 0; i < NumLevels; i++)
        {
            var parts = outputs[i].split(new long[] { NumOutputs, KeypointOutputs }, 1);
            det[i] = parts[0];
            kpts[i] = parts[1].reshape(b, KeypointOutputs, -1);
        }
        var (anchors, strides) = Anchors.Make(det, Strides, 0.5);
        var keypoints = DecodeKeypoints(cat(kpts, 2), anchors, strides);
        return cat(new[] { Decode(det), keypoints }, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Raw keypoints [B, K·D, A] → pixels: x = (2·raw + anchor_x − ½)·stride, likewise y; visibility through a sigmoid.
    /// <paramref name="anchors"/> [A, 2] are cell centres in grid units, <paramref name="strides"/> [A, 1].
    /// </summary>
    public Tensor DecodeKeypoints(Tensor raw, Tensor anchors, Tensor strides)
    {
        using var scope = NewDisposeScope();
        long b = raw.shape[0], a = raw.shape[2];
        var k = raw.view(b, NumKeypoints, KeypointDims, a);
        var cell = anchors.transpose(0, 1).Minus(0.5).view(1, 1, 2, a); // [1, 1, 2, A]
        var s = strides.view(1, 1, 1, a);
        var xy = k.narrow(2, 0, 2).Times(2.0).Plus(cell).mul(s);
        var y = KeypointDims == 3 ? cat(new[] { xy, k.narrow(2, 2, 1).sigmoid() }, 2) : xy;
        return y.reshape(b, KeypointOutputs, a).MoveToOuterDisposeScope();
    }
}
