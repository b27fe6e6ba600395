using TorchSharp;

namespace Strix.Runtime;

/// <summary>
/// Scalars that stay alive while libtorch reads them. TorchSharp 0.107 frees a <see cref="Scalar"/> in
/// its finalizer, and its implicit conversions — the alpha of <c>x + y</c> and <c>x.add_(y)</c>, the
/// number in <c>x * 0.5</c>, <c>mul_(d)</c>, <c>clamp(0, 1)</c>, <c>eq(i)</c> — create Scalars nothing
/// references once their handle is passed to native code. When another thread allocates (data-loader
/// workers), a GC can finalize such a Scalar while the op runs, and libtorch reads freed memory
/// ("Unknown scalar type", "Expected false to be true" from toFloat, or silently wrong values;
/// <c>bench -- scalar-race</c> reproduces it). Hot paths therefore pass Scalars they hold:
/// the constants here, or <c>using var s = value.ToScalar();</c> for run-time values (the <c>using</c>
/// keeps the object referenced until after the call).
/// </summary>
public static class Scalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Half = 0.5.ToScalar();
    public static readonly Scalar MinusOne = (-1).ToScalar();
    /// <summary>255: uint8 pixels ÷ this → 0–1 floats.</summary>
    public static readonly Scalar PixelMax = 255.0.ToScalar();
}

/// <summary>
/// Tensor arithmetic whose Scalars live until libtorch has read them (see <see cref="Scalars"/>).
/// TorchSharp's <c>a + b</c> passes an implicit alpha of 1, and every operator with a number builds an
/// implicit Scalar; these do the same arithmetic with Scalars held across the call. Operators between
/// two tensors other than <c>+</c> (<c>-</c>, <c>*</c>, <c>/</c>) create no Scalar and stay as they are.
/// The <c>long</c> overloads pass integer Scalars, so integer tensors stay integral as with <c>x + 1</c>.
/// </summary>
public static class HeldScalarMath
{
    /// <summary><c>a + b</c>.</summary>
    public static torch.Tensor Plus(this torch.Tensor a, torch.Tensor b) => a.add(b, Scalars.One);

    /// <summary><c>a + value</c>.</summary>
    public static torch.Tensor Plus(this torch.Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.add(s, Scalars.One);
    }

    /// <summary><c>a + value</c>.</summary>
    public static torch.Tensor Plus(this torch.Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.add(s, Scalars.One);
    }

    /// <summary><c>a - value</c>.</summary>
    public static torch.Tensor Minus(this torch.Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.sub(s);
    }

    /// <summary><c>a - value</c>.</summary>
    public static torch.Tensor Minus(this torch.Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.sub(s);
    }

    /// <summary><c>value - a</c>.</summary>
    public static torch.Tensor SubtractedFrom(this torch.Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.neg().add_(s, Scalars.One);
    }

    /// <summary><c>value - a</c>.</summary>
    public static torch.Tensor SubtractedFrom(this torch.Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.neg().add_(s, Scalars.One);
    }

    /// <summary><c>a * value</c>.</summary>
    public static torch.Tensor Times(this torch.Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.mul(s);
    }

    /// <summary><c>a * value</c>.</summary>
    public static torch.Tensor Times(this torch.Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.mul(s);
    }

    /// <summary><c>a / value</c>.</summary>
    public static torch.Tensor Over(this torch.Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.div(s);
    }

    /// <summary><c>a / value</c>.</summary>
    public static torch.Tensor Over(this torch.Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.div(s);
    }

    /// <summary><c>torch.arange(stop)</c>: 0, 1, …, stop − 1 (TorchSharp's short overloads build their 0 and step implicitly).</summary>
    public static torch.Tensor Arange(long stop, torch.ScalarType dtype, torch.Device? device = null)
    {
        using var end = stop.ToScalar();
        return torch.arange(Scalars.Zero, end, Scalars.One, dtype, device);
    }
}
