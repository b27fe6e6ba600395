using Strix.Data;
using Strix.Eval;
using static TorchSharp.torch;

namespace Strix.Tests.Eval;

/// <summary>Exact polygon IoU of rotated boxes against cases worked by hand, and ProbIoU's pairwise form.</summary>
public class PolygonIouTests
{
    static float[] Square(float x1, float y1, float side) => new[] { x1, y1, x1 + side, y1, x1 + side, y1 + side, x1, y1 + side };

    [Fact]
    public void Overlapping_squares_give_their_shared_area_over_the_union()
    {
        // Two 2×2 squares offset by 1: intersection 1×2 = 2, union 4 + 4 − 2 = 6.
        Assert.Equal(1.0 / 3, PolygonIou.Iou(Square(0, 0, 2), Square(1, 0, 2)), 9);
        // A 1×1 square inside a 2×2 one: 1 / 4.
        Assert.Equal(0.25, PolygonIou.Iou(Square(0.5f, 0.5f, 1), Square(0, 0, 2)), 9);
        Assert.Equal(0.0, PolygonIou.Iou(Square(0, 0, 1), Square(5, 5, 1)), 12);
        // The same square written clockwise is the same polygon.
        var cw = new float[] { 0, 0, 0, 2, 2, 2, 2, 0 };
        Assert.Equal(1.0, PolygonIou.Iou(cw, Square(0, 0, 2)), 9);
        Assert.Equal(1.0 / 3, PolygonIou.Iou(Square(1, 0, 2), cw), 9);
    }

    [Fact]
    public void A_square_turned_45_degrees_about_its_centre_overlaps_it_by_one_over_root_two()
    {
        // Square [0, 2]² and the same square turned by 45°: the intersection is the square less four corner triangles
        // of legs 2 − √2, so 4 − 2(2 − √2)² = 8√2 − 8; union 8 − (8√2 − 8); IoU = (√2 − 1)/(2 − √2) = 1/√2.
        var turned = Polygons.RectCorners(1, 1, 2, 2, MathF.PI / 4);
        Assert.Equal(8 * Math.Sqrt(2) - 8, PolygonIou.IntersectionArea(Square(0, 0, 2), turned), 5);
        Assert.Equal(1 / Math.Sqrt(2), PolygonIou.Iou(Square(0, 0, 2), turned), 5);
        // The axis-aligned bounds of the turned square (side 2√2) would give 4 / 8 = 0.5: the measure sees the rotation.
        var m = PolygonIou.Matrix(Square(0, 0, 2).Concat(turned).ToArray(), Square(0, 0, 2));
        Assert.Equal(new[] { 1f, MathF.Round((float)(1 / Math.Sqrt(2)), 4) }, m.Select(v => MathF.Round(v, 4)).ToArray());
    }

    [Fact]
    public void ProbIou_pairs_are_the_diagonal_of_the_all_pairs_matrix_and_one_for_identical_boxes()
    {
        using var a = tensor(new float[] { 10, 10, 8, 2, 0.3f, 5, 5, 4, 4, 0, 0, 0, 6, 3, 1.2f }, new long[] { 3, 5 });
        using var b = tensor(new float[] { 10, 10, 8, 2, 0.3f, 6, 5, 4, 4, 0.5f, 1, 0, 6, 3, 1.0f }, new long[] { 3, 5 });
        using var all = RotatedBoxes.ProbIou(a, b);
        using var pairs = RotatedBoxes.ProbIouPairs(a, b);
        using var diag = all.diagonal();
        Assert.Equal(diag.data<float>().ToArray(), pairs.data<float>().ToArray());
        Assert.Equal(1f, pairs[0].item<float>(), 3);
        Assert.True(pairs[1].item<float>() < 1f && pairs[1].item<float>() > 0.5f);
        // A box and the same box with w, h swapped and turned by π/2 are one rectangle.
        using var c = tensor(new float[] { 0, 0, 8, 2, 0 }, new long[] { 1, 5 });
        using var d = tensor(new float[] { 0, 0, 2, 8, MathF.PI / 2 }, new long[] { 1, 5 });
        Assert.Equal(1f, RotatedBoxes.ProbIouPairs(c, d).item<float>(), 3);
    }
}
