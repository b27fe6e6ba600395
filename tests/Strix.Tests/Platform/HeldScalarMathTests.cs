using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Tests.Platform;

/// <summary>The held-Scalar arithmetic gives what TorchSharp's operators give, dtype included.</summary>
public class HeldScalarMathTests
{
    [Fact]
    public void MatchesTheOperatorsValuesAndDtypes()
    {
        var x = tensor(new float[] { -1.5f, 0f, 2.25f });
        var y = tensor(new float[] { 4f, -3f, 0.5f });
        var i = tensor(new long[] { 1, 2, 3 });
        Assert.Equal(new float[] { 2.5f, -3f, 2.75f }, x.Plus(y).data<float>().ToArray());
        Assert.Equal(new float[] { -1f, 0.5f, 2.75f }, x.Plus(0.5).data<float>().ToArray());
        Assert.Equal(new float[] { -2f, -0.5f, 1.75f }, x.Minus(0.5).data<float>().ToArray());
        Assert.Equal(new float[] { 2.5f, 1f, -1.25f }, x.SubtractedFrom(1.0).data<float>().ToArray());
        Assert.Equal(new float[] { -3f, 0f, 4.5f }, x.Times(2.0).data<float>().ToArray());
        Assert.Equal(new float[] { -0.75f, 0f, 1.125f }, x.Over(2.0).data<float>().ToArray());

        // Integer Scalars keep integer tensors integral, as x + 1 does; a fractional one promotes.
        Assert.Equal(ScalarType.Int64, i.Plus(1).dtype);
        Assert.Equal(new long[] { 2, 3, 4 }, i.Plus(1).data<long>().ToArray());
        Assert.Equal(ScalarType.Int64, i.SubtractedFrom(1).dtype);
        Assert.Equal(new long[] { 0, -1, -2 }, i.SubtractedFrom(1).data<long>().ToArray());
        Assert.Equal((i + 0.5).dtype, i.Plus(0.5).dtype);
        Assert.Equal(new float[] { 1.5f, 2.5f, 3.5f }, i.Plus(0.5).data<float>().ToArray());

        var r = HeldScalarMath.Arange(4, ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, r.dtype);
        Assert.Equal(new float[] { 0, 1, 2, 3 }, r.data<float>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2 }, HeldScalarMath.Arange(3, ScalarType.Int64).data<long>().ToArray());
    }

    /// <summary>A formula written with <see cref="Held"/> is bit for bit the same as TorchSharp's own operators (here: CIoU's pieces).</summary>
    [Fact]
    public void Held_formulas_equal_torchsharps_operators_bit_for_bit()
    {
        var g = new Generator(3);
        var a = rand(new long[] { 64 }, generator: g);
        var b = rand(new long[] { 64 }, generator: g).add_(0.1);
        Held ha = a, hb = b;
        void Same(Tensor expected, Held actual) => Assert.True(expected.eq(actual.T).all().item<bool>() && expected.dtype == actual.T.dtype, "differs");
        Same(a * b + b * b - a + 1e-7, ha * hb + hb * hb - ha + 1e-7);
        Same((a - b) / (b + 0.5) * (4 / (Math.PI * Math.PI)), (ha - hb) / (hb + 0.5) * (4 / (Math.PI * Math.PI)));
        Same(1.0 - a, 1.0 - ha);
        Same(2.0 * a / 4, 2.0 * ha / 4);
        Same(-a, -ha);
        Same(minimum(a, b) - maximum(a, b), Held.Min(ha, hb) - Held.Max(ha, hb));
        Same(atan(a / b), Held.Atan(ha / hb));
        Same((a - b).clamp_min(0), (ha - hb).ClampMin0());

        // Integer numbers keep integer tensors integral.
        Held i = tensor(new long[] { 1, 2, 3 });
        Assert.Equal(ScalarType.Int64, (i + 1).T.dtype);
        Assert.Equal(new long[] { 0, -1, -2 }, (1 - i).T.data<long>().ToArray());
        Assert.Equal(new long[] { 3, 6, 9 }, (3 * i).T.data<long>().ToArray());
    }
}
