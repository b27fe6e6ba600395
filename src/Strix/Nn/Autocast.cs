using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Nn;

/// <summary>
/// Our autocast (TorchSharp has none). While a scope from <see cref="Enable"/> is active on the current
/// async flow, layers that call <see cref="Conv2d"/> or <see cref="Linear"/> cast input and weight to the
/// low-precision dtype (bf16 or fp16) and return the product in it, as PyTorch's autocast does: the
/// activations between layers flow in bf16, which halves memory traffic. The weights stay fp32 (master
/// weights; their gradients arrive in fp32 through the casts), and batch norm keeps fp32 parameters and
/// running statistics and accumulates its statistics in fp32 (libtorch's mixed-type batch norm on a bf16
/// input). Heads return fp32 (<see cref="Float32"/>), so decoding and the loss run in fp32.
/// </summary>
public static class Autocast
{
    static readonly AsyncLocal<ScalarType?> _dtype = new();

    /// <summary>The low-precision dtype in effect, or null when autocast is off.</summary>
    public static ScalarType? DType => _dtype.Value;

    public static bool IsEnabled => _dtype.Value is not null;

    /// <summary>Turns autocast on for <paramref name="dtype"/> until the returned scope is disposed (scopes nest).</summary>
    public static IDisposable Enable(ScalarType dtype)
    {
        if (dtype is not (ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"autocast runs in bfloat16 or float16, not {dtype}");
        var previous = _dtype.Value;
        _dtype.Value = dtype;
        return new Scope(previous);
    }

    /// <summary>Turns autocast off until disposed (e.g. for a loss computed inside an autocast region).</summary>
    public static IDisposable Disable()
    {
        var previous = _dtype.Value;
        _dtype.Value = null;
        return new Scope(previous);
    }

    sealed class Scope(ScalarType? previous) : IDisposable
    {
        bool _done;
        public void Dispose() { if (!_done) { _done = true; _dtype.Value = previous; } }
    }

    /// <summary><paramref name="conv"/>(x): in the autocast dtype when enabled (result in that dtype), else the plain call.</summary>
    public static Tensor Conv2d(Conv2d conv, Tensor x)
    {
        var dt = _dtype.Value;
        if (dt is null || !x.is_floating_point() || conv.padding is null) return conv.call(x);
        using var scope = NewDisposeScope();
        var y = nn.functional.conv2d(Cast(x, dt.Value), conv.weight!.to(dt.Value), conv.bias?.to(dt.Value),
            strides: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="conv"/>(x) for a transposed convolution (mask prototypes' upsampling), as <see cref="Conv2d"/>.</summary>
    public static Tensor ConvTranspose2d(ConvTranspose2d conv, Tensor x)
    {
        var dt = _dtype.Value;
        if (dt is null || !x.is_floating_point()) return conv.call(x);
        using var scope = NewDisposeScope();
        var y = nn.functional.conv_transpose2d(Cast(x, dt.Value), conv.weight!.to(dt.Value), conv.bias?.to(dt.Value),
            strides: conv.stride, padding: conv.padding, output_padding: conv.output_padding, groups: conv.groups, dilation: conv.dilation);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="linear"/>(x): in the autocast dtype when enabled (result in that dtype), else the plain call.</summary>
    public static Tensor Linear(Linear linear, Tensor x)
    {
        var dt = _dtype.Value;
        if (dt is null || !x.is_floating_point()) return linear.call(x);
        using var scope = NewDisposeScope();
        var y = nn.functional.linear(Cast(x, dt.Value), linear.weight!.to(dt.Value), linear.bias?.to(dt.Value));
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="x"/> as fp32: the same tensor when it already is, else a converted copy (and
    /// <paramref name="x"/> is disposed). Heads call it so their outputs are fp32 under autocast.
    /// </summary>
    public static Tensor Float32(Tensor x)
    {
        if (x.dtype == ScalarType.Float32 || !x.is_floating_point()) return x;
        var y = x.to(ScalarType.Float32);
        x.Dispose();
        return y;
    }

    static Tensor Cast(Tensor x, ScalarType dt) => x.dtype == dt ? x : x.to(dt);
}
