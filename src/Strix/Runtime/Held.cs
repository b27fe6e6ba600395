using static TorchSharp.torch;

namespace Strix.Runtime;

/// <summary>
/// A tensor inside a formula, so the formula can be written as the paper writes it
/// (<c>union = w1 * h1 + w2 * h2 - inter + eps</c>) while every Scalar libtorch reads is held alive for
/// the call (TorchSharp's finalizer race, see <see cref="Scalars"/>). This type is the one place the
/// workaround lives for formulas: when TorchSharp fixes the race, its operators become TorchSharp's own.
/// Tensors convert to <see cref="Held"/> implicitly; back with <see cref="T"/> (explicit, so an expression
/// never silently falls back to TorchSharp's Scalar-creating operators).
/// </summary>
public readonly struct Held
{
    public Held(Tensor tensor) { T = tensor; }

    /// <summary>The tensor.</summary>
    public Tensor T { get; }

    public static implicit operator Held(Tensor tensor) => new(tensor);
    public static explicit operator Tensor(Held held) => held.T;

    public static Held operator +(Held a, Held b) => a.T.Plus(b.T);
    public static Held operator +(Held a, double b) => a.T.Plus(b);
    public static Held operator +(double a, Held b) => b.T.Plus(a);
    public static Held operator -(Held a, Held b) => a.T - b.T;       // tensor − tensor passes no Scalar
    public static Held operator -(Held a, double b) => a.T.Minus(b);
    public static Held operator -(double a, Held b) => b.T.SubtractedFrom(a);
    public static Held operator -(Held a) => a.T.neg();
    public static Held operator *(Held a, Held b) => a.T * b.T;
    public static Held operator *(Held a, double b) => a.T.Times(b);
    public static Held operator *(double a, Held b) => b.T.Times(a);
    public static Held operator /(Held a, Held b) => a.T / b.T;
    public static Held operator /(Held a, double b) => a.T.Over(b);
    // Integer numbers pass integer Scalars, so integer tensors stay integral (as x + 1 does in torch).
    public static Held operator +(Held a, long b) => a.T.Plus(b);
    public static Held operator +(long a, Held b) => b.T.Plus(a);
    public static Held operator -(Held a, long b) => a.T.Minus(b);
    public static Held operator -(long a, Held b) => b.T.SubtractedFrom(a);
    public static Held operator *(Held a, long b) => a.T.Times(b);
    public static Held operator *(long a, Held b) => b.T.Times(a);
    public static Held operator /(Held a, long b) => a.T.Over(b);

    public static Held Min(Held a, Held b) => minimum(a.T, b.T);
    public static Held Max(Held a, Held b) => maximum(a.T, b.T);
    public static Held Atan(Held a) => atan(a.T);

    /// <summary><c>max(x, 0)</c>.</summary>
    public Held ClampMin0() => T.clamp_min(Scalars.Zero);
}
