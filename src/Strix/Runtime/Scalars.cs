using TorchSharp;

namespace Strix;

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
    public static readonly Scalar MinusOne = (-1).ToScalar();
}
