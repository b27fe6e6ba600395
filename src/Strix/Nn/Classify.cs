using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// The YOLO classification head (yolov8-cls, yolo11-cls): a 1×1 Conv widening the last backbone map to
/// <see cref="Hidden"/> channels, global average pooling, dropout, and a linear layer to nc logits.
/// <see cref="forward"/> returns the logits [B, nc] (what the cross-entropy loss reads); <see cref="Probabilities"/>
/// applies the softmax inference uses. Attribute names (conv, pool, drop, linear) are Ultralytics', so
/// checkpoints map one to one.
/// </summary>
public sealed class Classify : Module<Tensor, Tensor>
{
    /// <summary>The hidden width every YOLO classifier uses (EfficientNet-B0's 1280).</summary>
    public const int Hidden = 1280;

    public Conv conv;
    public AdaptiveAvgPool2d pool;
    public Dropout drop;
    public Linear linear;

    public int NumClasses { get; }
    public int InChannels { get; }

    /// <summary>A head from <paramref name="c1"/> input channels to <paramref name="nc"/> classes; <paramref name="dropout"/> before the linear layer (Ultralytics trains with 0).</summary>
    public Classify(int c1, int nc, int k = 1, int s = 1, double dropout = 0.0) : base(nameof(Classify))
    {
        if (nc < 1) throw new ArgumentOutOfRangeException(nameof(nc), "a classifier needs at least one class");
        NumClasses = nc;
        InChannels = c1;
        conv = new Conv(c1, Hidden, k, s);
        pool = AdaptiveAvgPool2d(1);
        drop = Dropout(dropout);
        linear = Linear(Hidden, nc);
        RegisterComponents();
    }

    /// <summary>Logits [B, nc].</summary>
    public override Tensor forward(Tensor x)
    {
        using var h = conv.call(x);
        using var pooled = pool.call(h);
        using var flat = pooled.flatten(1);
        using var dropped = drop.call(flat);
        return Autocast.Float32(Autocast.Linear(linear, dropped)); // the loss and softmax read fp32 logits
    }

    /// <summary>Class probabilities [B, nc] from the logits (softmax over classes, in fp32).</summary>
    public static Tensor Probabilities(Tensor logits) => logits.to(ScalarType.Float32).softmax(1);
}
