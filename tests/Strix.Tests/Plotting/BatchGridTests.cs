using Strix.Data;
using Strix.IO;
using Strix.Plotting;
using static TorchSharp.torch;

namespace Strix.Tests.Plotting;

public class BatchGridTests
{
    // One 128×128 grey image with two objects: object 1 covers the top-left 64×64, object 2 the bottom-right 32×32; the
    // overlap plane is at mask_ratio 4 (32×32), so the objects are its cells 0–15 × 0–15 and 24–31 × 24–31.
    static Batch SegBatch(bool masks)
    {
        var plane = zeros(new long[] { 1, 32, 32 }, ScalarType.Int32);
        plane[0, ..16, ..16] = tensor(1);
        plane[0, 24.., 24..] = tensor(2);
        return new Batch
        {
            Images = full(new long[] { 1, 3, 128, 128 }, 128, ScalarType.Byte),
            BatchIdx = zeros(2), Cls = tensor(new float[] { 0, 1 }),
            Bboxes = tensor(new float[] { 0.25f, 0.25f, 0.5f, 0.5f, 0.875f, 0.875f, 0.25f, 0.25f }, new long[] { 2, 4 }),
            Masks = masks ? plane : null, Files = new[] { "a.jpg" }, Count = 1,
        };
    }

    [Fact]
    public void Labels_are_pixel_boxes_with_their_masks_at_the_image_size()
    {
        using var batch = SegBatch(masks: true);
        var l = BatchGrid.Labels(batch, 0, new float[] { 0, 0 }, new float[] { 0, 1 }, new float[] { 0.25f, 0.25f, 0.5f, 0.5f, 0.875f, 0.875f, 0.25f, 0.25f });
        Assert.Equal(new float[] { 0, 0, 64, 64, 96, 96, 128, 128 }, l.Xyxy);
        Assert.Equal(new[] { 0, 1 }, l.Classes);
        Assert.Equal(2, l.Masks!.Length);
        // Well inside and well outside each object (the bilinear edge is a pixel or two wide).
        Assert.Equal(1, l.Masks[0]![32 * 128 + 32]);
        Assert.Equal(0, l.Masks[0]![32 * 128 + 96]);
        Assert.Equal(1, l.Masks[1]![112 * 128 + 112]);
        Assert.Equal(0, l.Masks[1]![32 * 128 + 32]);
        Assert.InRange(l.Masks[0]!.Sum(b => b), 62 * 62, 66 * 66);
    }

    [Fact]
    public void A_training_batch_with_masks_is_drawn_with_them_tinted()
    {
        var dir = TestPaths.NewTempDir("strix-batch-grid");
        string with = Path.Combine(dir, "with.jpg"), without = Path.Combine(dir, "without.jpg");
        using (var b = SegBatch(masks: true)) DataPlots.PlotBatch(b, new[] { "a", "b" }, with);
        using (var b = SegBatch(masks: false)) DataPlots.PlotBatch(b, new[] { "a", "b" }, without);
        var a = ImageIO.Load(with);
        var o = ImageIO.Load(without);
        Assert.Equal((o.Width, o.Height), (a.Width, a.Height));
        // Inside object 1, away from its box outline and label, the tint changes the pixel; outside both it does not.
        int Diff(int x, int y) => Enumerable.Range(0, 3).Sum(c => Math.Abs(a.Pixels[(y * a.Width + x) * 3 + c] - o.Pixels[(y * o.Width + x) * 3 + c]));
        Assert.True(Diff(40, 40) > 30, $"inside: {Diff(40, 40)}");
        Assert.True(Diff(90, 40) < 12, $"outside: {Diff(90, 40)}");
    }
}
