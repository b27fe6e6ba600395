using Strix.Eval;
using static TorchSharp.torch;

namespace Strix.Tests.Eval;

public class MaskOpsTests
{
    [Fact]
    public void The_crop_keeps_the_pixels_inside_the_box()
    {
        using var masks = ones(1, 3, 4);
        using var boxes = tensor(new float[] { 1, 0, 3, 2 }, new long[] { 1, 4 });
        using var m = MaskOps.Crop(masks, boxes);
        Assert.Equal(new float[] { 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0 }, m.data<float>().ToArray());
    }

    [Fact]
    public void Mask_iou_of_hand_built_masks()
    {
        // a: left half of a 4×4 (8 px); b: top half (8 px), overlap 4 → 4 / 12; c: empty.
        var a = zeros(4, 4, dtype: ScalarType.Bool); a[.., ..2] = tensor(true);
        var b = zeros(4, 4, dtype: ScalarType.Bool); b[..2, ..] = tensor(true);
        var c = zeros(4, 4, dtype: ScalarType.Bool);
        using var ab = stack(new[] { a, c });
        using var bb = stack(new[] { b, a, c });
        using var iou = MaskOps.Iou(ab, bb);
        var v = iou.data<float>().ToArray();
        Assert.Equal(new[] { 1f / 3, 1f, 0f, 0f, 0f, 0f }, v.Select(x => MathF.Round(x, 6)).ToArray(), new RoundedComparer());
        a.Dispose(); b.Dispose(); c.Dispose();
    }

    sealed class RoundedComparer : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) < 1e-5;
        public int GetHashCode(float obj) => 0;
    }

    [Fact]
    public void Processed_masks_are_the_prototype_inside_the_box_at_the_input_size()
    {
        // One prototype that is +10 everywhere (sigmoid ≈ 1) and coefficient 1: the mask is the box, which at 4×
        // upsampling covers input pixels 8–23 × 4–15. Bilinear upsampling gives the edge pixels 0.625 (kept) and the four
        // corner pixels 0.625² = 0.39 (dropped), as Ultralytics' process_mask does: 16·12 − 4 pixels.
        using var protos = full(1, 8, 8, 10f);
        using var coef = ones(1, 1);
        using var boxes = tensor(new float[] { 8, 4, 24, 16 }, new long[] { 1, 4 });
        using var m = MaskOps.Process(protos, coef, boxes, 32, 32);
        Assert.Equal(new long[] { 1, 32, 32 }, m.shape);
        Assert.Equal(16 * 12 - 4, m.sum().item<long>());
        Assert.True(m[0, 4, 9].item<bool>() && m[0, 5, 8].item<bool>() && m[0, 15, 22].item<bool>());
        Assert.False(m[0, 4, 8].item<bool>() || m[0, 15, 23].item<bool>());
        Assert.False(m[0, 3, 8].item<bool>() || m[0, 4, 7].item<bool>() || m[0, 16, 23].item<bool>() || m[0, 15, 24].item<bool>());
        // A negative coefficient gives nothing.
        using var neg = full(1, 1, -1f);
        using var none = MaskOps.Process(protos, neg, boxes, 32, 32);
        Assert.Equal(0, none.sum().item<long>());
    }
}

public class MaskToOriginalTests
{
    static (int, int)[] Ones(Tensor mask)
    {
        var v = mask.to(ScalarType.Byte).data<byte>().ToArray();
        int w = (int)mask.shape[^1];
        return Enumerable.Range(0, v.Length).Where(i => v[i] != 0).Select(i => (i / w, i % w)).ToArray();
    }

    [Fact]
    public void The_letterbox_padding_is_cut_away_at_the_same_scale()
    {
        // An 8×4 original letterboxed into 8×8 at ratio 1 with 2 rows of padding on top: input rows 2–3, columns 0–3
        // are the original's rows 0–1.
        using var m = zeros(1, 8, 8);
        m[0, 2..4, ..4] = tensor(1f);
        using var o = MaskOps.ToOriginal(m, 8, 8, (1, 1, 0, 2), (4, 8));
        Assert.Equal(new long[] { 1, 4, 8 }, o.shape);
        Assert.Equal(Enumerable.Range(0, 2).SelectMany(r => Enumerable.Range(0, 4).Select(c => (r, c))).ToArray(), Ones(o));
    }

    [Fact]
    public void A_quarter_resolution_band_becomes_exact_rows_of_the_original()
    {
        // Rows 1–2 of a 4×4 mask at ¼ of a 16×16 input (no padding) whose original is 32×32: bilinear resampling puts
        // each edge at the midpoint between cells, so the band is exactly rows 8–23 (a band has no corners to round).
        using var m = zeros(1, 4, 4);
        m[0, 1..3, ..] = tensor(1f);
        using var o = MaskOps.ToOriginal(m, 16, 16, (0.5, 0.5, 0, 0), (32, 32));
        Assert.Equal(Enumerable.Range(8, 16).SelectMany(r => Enumerable.Range(0, 32).Select(c => (r, c))).ToArray(), Ones(o));
    }

    [Fact]
    public void A_block_s_corners_round_off_as_in_bilinear_upsampling()
    {
        // One cell upsampled ×4: the 1-D profile over its four pixels is 0.625, 0.875, 0.875, 0.625, so the corner pixels
        // (0.625² = 0.39) fall below ½ and the edge pixels (0.625·0.875 = 0.55) stay: 16 − 4 = 12 pixels.
        using var m = zeros(1, 4, 4);
        m[0, 1, 2] = tensor(1f);
        using var o = MaskOps.ToOriginal(m, 16, 16, (1, 1, 0, 0), (16, 16));
        var ones = Ones(o);
        Assert.Equal(12, ones.Length);
        Assert.All(ones, p => Assert.True(p.Item1 is >= 4 and < 8 && p.Item2 is >= 8 and < 12, $"{p}"));
        Assert.DoesNotContain((4, 8), ones);
    }

    [Fact]
    public void More_masks_than_a_chunk_come_back_in_order()
    {
        using var m = zeros(70, 4, 4);
        for (int k = 0; k < 70; k++) m[k, k % 4, k / 4 % 4] = tensor(1f);
        using var o = MaskOps.ToOriginal(m, 4, 4, (1, 1, 0, 0), (4, 4));
        Assert.Equal(new long[] { 70, 4, 4 }, o.shape);
        for (int k = 0; k < 70; k++)
            using (var one = o[k]) Assert.Equal(new[] { (k % 4, k / 4 % 4) }, Ones(one));
    }
}
