using Strix.Data;
using Strix.Eval;
using static TorchSharp.torch;

namespace Strix.Tests.Eval;

public class BoxOpsTests
{
    [Fact]
    public void IouMatrixMatchesHandComputedValues()
    {
        using var a = tensor(new float[] { 0, 0, 2, 2, 0, 0, 1, 1 }, new long[] { 2, 4 });
        using var b = tensor(new float[] { 1, 1, 3, 3, 0, 0, 2, 2, 5, 5, 6, 6 }, new long[] { 3, 4 });
        using var iou = BoxOps.Iou(a, b);
        Assert.Equal(new long[] { 2, 3 }, iou.shape);
        var v = iou.data<float>().ToArray();
        Assert.Equal(1.0 / 7, v[0], 5);   // overlap 1, union 4 + 4 − 1
        Assert.Equal(1.0, v[1], 5);       // identical
        Assert.Equal(0.0, v[2], 6);       // disjoint
        Assert.Equal(0.0, v[3], 6);       // touching at a corner only
        Assert.Equal(0.25, v[4], 5);      // [0,0,1,1] inside [0,0,2,2]
        Assert.Equal(0.0, v[5], 6);
    }

    [Fact]
    public void SpanIouAgreesWithTensorIou()
    {
        var rng = new Random(3);
        var boxes = Enumerable.Range(0, 40).SelectMany(_ =>
        {
            float x = rng.NextSingle() * 50, y = rng.NextSingle() * 50;
            return new[] { x, y, x + 1 + rng.NextSingle() * 30, y + 1 + rng.NextSingle() * 30 };
        }).ToArray();
        using var t = tensor(boxes, new long[] { 40, 4 });
        using var iou = BoxOps.Iou(t, t);
        var expected = iou.data<float>().ToArray();
        var actual = new float[40 * 40];
        BoxOps.Iou(boxes, boxes, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void IouOfEmptySetsHasEmptyShape()
    {
        using var a = zeros(0, 4);
        using var b = tensor(new float[] { 0, 0, 1, 1 }, new long[] { 1, 4 });
        using var iou = BoxOps.Iou(a, b);
        Assert.Equal(new long[] { 0, 1 }, iou.shape);
    }

    [Fact]
    public void XywhAndXyxyRoundTrip()
    {
        using var xywh = tensor(new float[] { 10, 20, 4, 6 }, new long[] { 1, 4 });
        using var xyxy = BoxOps.XywhToXyxy(xywh);
        Assert.Equal(new float[] { 8, 17, 12, 23 }, xyxy.data<float>().ToArray());
        using var back = BoxOps.XyxyToXywh(xyxy);
        Assert.Equal(new float[] { 10, 20, 4, 6 }, back.data<float>().ToArray());
    }

    [Fact]
    public void ClipLimitsToImage()
    {
        using var b = tensor(new float[] { -5, -1, 120, 30, 10, 10, 20, 80 }, new long[] { 2, 4 });
        using var c = BoxOps.Clip(b, height: 50, width: 100);
        Assert.Equal(new float[] { 0, 0, 100, 30, 10, 10, 20, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void ScaleBoxesInvertsTheLetterbox()
    {
        // A 200×100 image letterboxed into 64×64: ratio 0.32, padding 16 rows on top.
        var lb = Letterbox.Apply(RgbImage.Filled(200, 100, 0, 0, 0), 64, 64);
        var original = new float[] { 10, 10, 50, 50, 150, 0, 200, 100 };
        var input = new float[8];
        for (int i = 0; i < 8; i += 2)
        {
            input[i] = (float)(original[i] * lb.RatioW + lb.PadW);
            input[i + 1] = (float)(original[i + 1] * lb.RatioH + lb.PadH);
        }
        using var t = tensor(input, new long[] { 2, 4 });
        using var back = BoxOps.ScaleBoxes(t, lb.RatioW, lb.RatioH, lb.PadW, lb.PadH, originalHeight: 100, originalWidth: 200);
        var v = back.data<float>().ToArray();
        for (int i = 0; i < 8; i++) Assert.Equal(original[i], v[i], 3);

        // Recomputing the letterbox parameters from the sizes gives the same mapping.
        using var back2 = BoxOps.ScaleBoxes(t, 64, 64, 100, 200);
        Assert.Equal(v, back2.data<float>().ToArray());
    }

    [Fact]
    public void ScaleBoxesClipsBoxesInThePadding()
    {
        using var t = tensor(new float[] { 0, 0, 64, 64 }, new long[] { 1, 4 });
        using var back = BoxOps.ScaleBoxes(t, 0.32, 0.32, 0, 16, 100, 200);
        Assert.Equal(new float[] { 0, 0, 200, 100 }, back.data<float>().ToArray());
    }

    [Fact]
    public void RejectsWrongShapes()
    {
        using var a = zeros(3, 5);
        Assert.Throws<ArgumentException>(() => BoxOps.Iou(a, a));
    }
}
