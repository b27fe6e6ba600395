using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// YOLO's basic block: Conv2d (no bias) → BatchNorm2d → SiLU, with "same" padding by default.
/// After <see cref="Fuse"/> the batch norm is folded into the convolution's weight and bias.
/// </summary>
public class Conv : Module<Tensor, Tensor>
{
    public Conv2d conv;
    public BatchNorm2d? bn;
    readonly bool _act;

    public int InChannels { get; }
    public int OutChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }

    /// <summary>A c1→c2 k×k convolution with stride s, g groups, dilation d; padding p, or (null) the padding that keeps the size at stride 1, as Ultralytics' autopad does.</summary>
    public Conv(int c1, int c2, int k = 1, int s = 1, int g = 1, bool act = true, int? p = null, int d = 1)
        : this(nameof(Conv), c1, c2, k, s, g, act, p, d) { }

    /// <summary>For subclasses that are a Conv under another name (DWConv).</summary>
    protected Conv(string name, int c1, int c2, int k, int s, int g, bool act, int? p, int d) : base(name)
    {
        // Bounds that no real network exceeds, so a model file cannot ask libtorch for absurd kernels or shapes.
        if (k is < 1 or > 31 || s is < 1 or > 16 || d is < 1 or > 16 || p is < 0 or > 64 || g < 1)
            throw new ArgumentException($"Conv({c1}, {c2}): kernel {k}, stride {s}, padding {p?.ToString() ?? "auto"}, dilation {d}, groups {g} are out of range");
        if (c1 % g != 0 || c2 % g != 0) throw new ArgumentException($"Conv({c1}, {c2}): {g} groups do not divide the channels");
        if ((long)c1 / g * c2 * k * k > MaxWeights)
            throw new ArgumentException($"Conv({c1}, {c2}, k={k}): {(long)c1 / g * c2 * k * k} weights is more than any real network's convolution ({MaxWeights} at most)");
        InChannels = c1; OutChannels = c2; Kernel = k; Stride = s; Dilation = d; Groups = g;
        Padding = p ?? AutoPad(k, d);
        conv = Conv2d(c1, c2, k, stride: s, padding: Padding, dilation: d, groups: g, bias: false);
        // Ultralytics' initialize_weights: eps 1e-3, momentum 0.03.
        bn = BatchNorm2d(c2, eps: 1e-3, momentum: 0.03);
        _act = act;
        RegisterComponents();
    }

    /// <summary>Largest weight count of one convolution (the widest real one, 1280×1280×3×3, has 14.7 M).</summary>
    public const long MaxWeights = 1L << 27;

    /// <summary>The padding that keeps H×W at stride 1: half the dilated kernel.</summary>
    public static int AutoPad(int k, int d = 1) => (d * (k - 1) + 1) / 2;

    public bool IsFused => bn is null;
    /// <summary>True when SiLU follows the (normalised) convolution.</summary>
    public bool HasActivation => _act;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = Autocast.Conv2d(conv, x); // in bf16/fp16 under autocast; batch norm then runs mixed (fp32 statistics)
        if (bn is not null) y = SafeBatchNorm.Forward(bn, y);
        if (_act) y = functional.silu(y);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Folds batch norm into the convolution for inference (w' = w·γ/σ, b' = β − μ·γ/σ).</summary>
    public void Fuse()
    {
        if (bn is null) return;
        using var _ = no_grad();
        var fused = Conv2d(InChannels, OutChannels, Kernel, stride: Stride, padding: Padding, dilation: Dilation,
            groups: Groups, bias: true, device: conv.weight!.device, dtype: conv.weight.dtype);
        var (w, b) = BatchNormFolding.Fold(conv.weight, null, bn);
        fused.weight!.copy_(w);
        fused.bias!.copy_(b);
        w.Dispose(); b.Dispose();
        conv.Dispose();
        bn.Dispose();
        conv = fused;
        bn = null;
        // Re-register so named_parameters reflects the fused layout (conv.weight, conv.bias).
        _internal_submodules.Clear();
        register_module("conv", conv);
    }
}
