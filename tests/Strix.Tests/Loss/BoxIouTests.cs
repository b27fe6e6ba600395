using Strix.Loss;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

public class BoxIouTests
{
    static Tensor Box(params double[] xyxy) => tensor(xyxy, dtype: ScalarType.Float64);
    static double Value(Tensor t) => t.to(ScalarType.Float64).item<double>();

    [Theory]
    [InlineData(IouKind.Iou)]
    [InlineData(IouKind.GIoU)]
    [InlineData(IouKind.DIoU)]
    [InlineData(IouKind.CIoU)]
    public void IdenticalBoxesGiveOne(IouKind kind)
    {
        using var b = tensor(new float[] { 1, 2, 5, 8 });
        using var r = BoxIou.Compute(b, b, kind);
        Assert.Equal(0, r.dim());
        Assert.Equal(1.0, Value(r), 6);
    }

    [Fact]
    public void DisjointPairOfEqualShapes()
    {
        // Two 2×2 squares side by side, 2 apart: no intersection, union 8, enclosing box 6×2,
        // centres (1,1) and (5,1): ρ² = 16, diagonal² = 36 + 4 = 40, same aspect so v = 0.
        using var a = Box(0, 0, 2, 2);
        using var b = Box(4, 0, 6, 2);
        using var iou = BoxIou.Iou(a, b);
        using var giou = BoxIou.GIoU(a, b);
        using var diou = BoxIou.DIoU(a, b);
        using var ciou = BoxIou.CIoU(a, b);
        Assert.Equal(0.0, Value(iou), 9);
        Assert.Equal(0 - (12.0 - 8.0) / 12.0, Value(giou), 6);
        Assert.Equal(-16.0 / 40.0, Value(diou), 6);
        Assert.Equal(-16.0 / 40.0, Value(ciou), 6);
    }

    [Fact]
    public void PartialOverlapWithDifferentAspects()
    {
        // A = 4×2 at (0,0), B = 2×4 at (1,1). Intersection x∈[1,3], y∈[1,2] → 2; union 8 + 8 − 2 = 14.
        // Enclosing box 4×5: diagonal² 41, area 20. Centres (2,1) and (2,3): ρ² = 4.
        // v = 4/π²·(atan(2/4) − atan(4/2))², α = v / (v − IoU + 1).
        using var a = Box(0, 0, 4, 2);
        using var b = Box(1, 1, 3, 5);
        double iou = 2.0 / 14.0;
        double v = 4 / (Math.PI * Math.PI) * Math.Pow(Math.Atan(2.0 / 4.0) - Math.Atan(4.0 / 2.0), 2);
        double alpha = v / (v - iou + 1);
        using var riou = BoxIou.Iou(a, b);
        using var rgiou = BoxIou.GIoU(a, b);
        using var rdiou = BoxIou.DIoU(a, b);
        using var rciou = BoxIou.CIoU(a, b);
        Assert.Equal(iou, Value(riou), 6);
        Assert.Equal(iou - (20.0 - 14.0) / 20.0, Value(rgiou), 6);
        Assert.Equal(iou - 4.0 / 41.0, Value(rdiou), 6);
        Assert.Equal(iou - 4.0 / 41.0 - alpha * v, Value(rciou), 6);
        Assert.Equal(0.0178168, Value(rciou), 6);           // the same number, written out
        // Symmetric in its arguments.
        using var swapped = BoxIou.CIoU(b, a);
        Assert.Equal(Value(rciou), Value(swapped), 9);
    }

    [Fact]
    public void CiouTreatsAlphaAsConstantInTheGradient()
    {
        // d CIoU / d x2 of box A, with α frozen, against a central difference of the same function.
        double[] a0 = { 0, 0, 4, 2 }, b0 = { 1, 1, 3, 5 };
        double Frozen(double[] a, double alpha)
        {
            double w1 = a[2] - a[0], h1 = a[3] - a[1], w2 = b0[2] - b0[0], h2 = b0[3] - b0[1];
            double iw = Math.Max(0, Math.Min(a[2], b0[2]) - Math.Max(a[0], b0[0]));
            double ih = Math.Max(0, Math.Min(a[3], b0[3]) - Math.Max(a[1], b0[1]));
            double inter = iw * ih, iou = inter / (w1 * h1 + w2 * h2 - inter);
            double cw = Math.Max(a[2], b0[2]) - Math.Min(a[0], b0[0]), ch = Math.Max(a[3], b0[3]) - Math.Min(a[1], b0[1]);
            double rho2 = Math.Pow((b0[0] + b0[2] - a[0] - a[2]) / 2, 2) + Math.Pow((b0[1] + b0[3] - a[1] - a[3]) / 2, 2);
            double v = 4 / (Math.PI * Math.PI) * Math.Pow(Math.Atan(w2 / h2) - Math.Atan(w1 / h1), 2);
            return iou - rho2 / (cw * cw + ch * ch) - alpha * v;
        }
        double iou0 = 2.0 / 14.0;
        double v0 = 4 / (Math.PI * Math.PI) * Math.Pow(Math.Atan(0.5) - Math.Atan(2.0), 2);
        double alpha0 = v0 / (v0 - iou0 + 1);
        const double h = 1e-6;
        var plus = (double[])a0.Clone(); plus[2] += h;
        var minus = (double[])a0.Clone(); minus[2] -= h;
        double expected = (Frozen(plus, alpha0) - Frozen(minus, alpha0)) / (2 * h);

        using var a = tensor(a0, dtype: ScalarType.Float64).requires_grad_(true);
        using var b = Box(b0);
        using var c = BoxIou.CIoU(a, b);
        c.backward();
        Assert.Equal(expected, a.grad!.to(ScalarType.Float64).data<double>()[2], 6);
    }

    [Fact]
    public void BroadcastsPairwiseAndKeepsLeadingShape()
    {
        manual_seed(3);
        using var xy = rand(5, 2) * 10;
        using var wh = rand(5, 2) * 5 + 0.5;
        using var boxes = cat(new[] { xy, xy + wh }, 1);
        using var pairwise = BoxIou.CIoU(boxes.unsqueeze(1), boxes.unsqueeze(0));     // [5, 5]
        Assert.Equal(new long[] { 5, 5 }, pairwise.shape);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
            {
                using var one = BoxIou.CIoU(boxes[i], boxes[j]);
                Assert.Equal(one.item<float>(), pairwise[i, j].item<float>(), 5);
            }
        using var diag = pairwise.diagonal();
        Assert.True(diag.allclose(ones(5), atol: 1e-5));
    }

    [Fact]
    public void RejectsBoxesWithoutFourCoordinates()
    {
        using var a = zeros(3, 2);
        var ex = Assert.Throws<ArgumentException>(() => BoxIou.Iou(a, a));
        Assert.Contains("4 coordinates", ex.Message);
    }
}
