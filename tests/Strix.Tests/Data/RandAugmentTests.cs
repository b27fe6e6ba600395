using Strix.Data;
using Strix.Runtime;

namespace Strix.Tests.Data;

public class RandAugmentTests
{
    static RgbImage Gradient(int w, int h)
    {
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * 3;
                px[i] = (byte)(10 + 20 * x); px[i + 1] = (byte)(10 + 20 * y); px[i + 2] = (byte)(x * w + y);
            }
        return new RgbImage(w, h, px);
    }

    static (byte R, byte G, byte B) At(RgbImage img, int x, int y)
    {
        int i = (y * img.Width + x) * 3;
        return (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]);
    }

    [Fact]
    public void Magnitudes_at_bin_9_of_31_are_torchvisions()
    {
        Assert.Equal(0.09, RandAugment.Magnitude(RandAugmentOp.ShearX, 9, 64, 64), 12);
        Assert.Equal(9.0, RandAugment.Magnitude(RandAugmentOp.Rotate, 9, 64, 64), 12);
        Assert.Equal(0.27, RandAugment.Magnitude(RandAugmentOp.Contrast, 9, 64, 64), 12);
        Assert.Equal(7, RandAugment.Magnitude(RandAugmentOp.Posterize, 9, 64, 64));    // 8 − round(9 / 7.5)
        Assert.Equal(4, RandAugment.Magnitude(RandAugmentOp.Posterize, 30, 64, 64));
        Assert.Equal(178.5, RandAugment.Magnitude(RandAugmentOp.Solarize, 9, 64, 64), 12);
        Assert.Equal(13, RandAugment.Magnitude(RandAugmentOp.TranslateX, 9, 100, 64)); // ⌊150/331 · 100 · 0.3⌋ = ⌊13.6⌋
        Assert.Equal(8, RandAugment.Magnitude(RandAugmentOp.TranslateY, 9, 100, 64));  // ⌊8.7⌋
        Assert.True(RandAugment.IsSigned(RandAugmentOp.Sharpness) && !RandAugment.IsSigned(RandAugmentOp.Solarize) && !RandAugment.IsSigned(RandAugmentOp.Posterize));
    }

    [Fact]
    public void Translation_and_a_quarter_turn_move_pixels_exactly_and_fill_with_black()
    {
        var img = Gradient(6, 4);
        var t = RandAugment.ApplyOp(img, RandAugmentOp.TranslateX, 2);
        for (int y = 0; y < 4; y++)
        {
            Assert.Equal((0, 0, 0), At(t, 0, y)); Assert.Equal((0, 0, 0), At(t, 1, y));
            for (int x = 2; x < 6; x++) Assert.Equal(At(img, x - 2, y), At(t, x, y));
        }
        var up = RandAugment.ApplyOp(img, RandAugmentOp.TranslateY, -1);
        for (int x = 0; x < 6; x++) { Assert.Equal(At(img, x, 1), At(up, x, 0)); Assert.Equal((0, 0, 0), At(up, x, 3)); }

        // 90° counter-clockwise on screen: the top-right pixel comes to the top-left, the top-left to the bottom-left.
        var sq = Gradient(4, 4);
        var r = RandAugment.ApplyOp(sq, RandAugmentOp.Rotate, 90);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(At(sq, 3 - y, x), At(r, x, y));
    }

    [Fact]
    public void A_shear_about_the_top_left_shifts_each_row_by_its_height()
    {
        // m = 1: x' = x − y, so the row with centre y + 0.5 reads the source y + 0.5 px to its right:
        // row 0 half a pixel, row 1 one and a half (bilinear means of two neighbours).
        var img = Gradient(8, 4);
        var s = RandAugment.ApplyOp(img, RandAugmentOp.ShearX, 1.0);
        Assert.Equal((byte)((10 + 20 * 2 + 10 + 20 * 3 + 1) / 2), At(s, 2, 0).R);
        Assert.Equal((byte)((10 + 20 * 3 + 10 + 20 * 4 + 1) / 2), At(s, 2, 1).R);
        Assert.Equal(0, At(s, 7, 3).R); // x = 7 reads x = 10.5: outside
    }

    [Fact]
    public void Enhancements_posterize_solarize_and_autocontrast_give_hand_computed_values()
    {
        var px = new byte[] { 100, 50, 200, 255, 3, 179, 178, 150, 60 };
        RgbImage Img() => new(3, 1, (byte[])px.Clone());

        // Factor 1.25, rounded half up, clipped at 255.
        var b = RandAugment.ApplyOp(Img(), RandAugmentOp.Brightness, 0.25);
        Assert.Equal(new byte[] { 125, 63, 250, 255, 4, 224, 223, 188, 75 }, b.Pixels);

        var p = RandAugment.ApplyOp(Img(), RandAugmentOp.Posterize, 7);
        Assert.Equal(new byte[] { 100, 50, 200, 254, 2, 178, 178, 150, 60 }, p.Pixels);

        var s = RandAugment.ApplyOp(Img(), RandAugmentOp.Solarize, 178.5);
        Assert.Equal(new byte[] { 100, 50, 55, 0, 3, 76, 178, 150, 60 }, s.Pixels);

        // Red runs 100..255 → 0..255; green 3..150; blue 60..200.
        var a = RandAugment.ApplyOp(Img(), RandAugmentOp.AutoContrast, 0);
        Assert.Equal(new byte[] { 0, 82, 255, 255, 0, 217, 128, 255, 0 }, a.Pixels);

        // Saturation 0 (factor 1 + (−1)) leaves each pixel's luma in every channel.
        var g = RandAugment.ApplyOp(Img(), RandAugmentOp.Color, -1);
        Assert.Equal(new byte[] { 82, 82, 82, 98, 98, 98, 148, 148, 148 }, g.Pixels);

        // Contrast 0 leaves the image's mean luma, round((82 + 98 + 148) / 3) = 109, everywhere.
        var c = RandAugment.ApplyOp(Img(), RandAugmentOp.Contrast, -1);
        Assert.All(c.Pixels, v => Assert.Equal(109, v));
    }

    [Fact]
    public void Sharpness_keeps_the_border_and_blends_the_inside_with_its_smoothed_value()
    {
        var img = RgbImage.Filled(3, 3, 0, 0, 0);
        for (int c = 0; c < 3; c++) img.Pixels[(1 * 3 + 1) * 3 + c] = 130;
        // Smoothed centre: 130 · 5 / 13 = 50; factor 0 gives it, factor 2 gives 2 · 130 − 50 = 210; the border stays 0.
        var soft = RandAugment.ApplyOp(img.Clone(), RandAugmentOp.Sharpness, -1);
        Assert.Equal((50, 50, 50), At(soft, 1, 1));
        var sharp = RandAugment.ApplyOp(img.Clone(), RandAugmentOp.Sharpness, 1);
        Assert.Equal((210, 210, 210), At(sharp, 1, 1));
        Assert.Equal((0, 0, 0), At(sharp, 0, 1));
    }

    [Fact]
    public void Equalize_spreads_a_two_value_channel_over_the_full_range()
    {
        // 510 pixels, half 10 and half 200: step = (510 − 255) / 255 = 1, so 10 → 0 and 200 → 255 pixels-below = 255.
        var px = new byte[510 * 3];
        for (int i = 0; i < 510; i++) { px[3 * i] = (byte)(i < 255 ? 10 : 200); px[3 * i + 1] = 77; px[3 * i + 2] = (byte)(i < 255 ? 10 : 200); }
        var img = new RgbImage(510, 1, px);
        RandAugment.Equalize(img);
        Assert.Equal((0, 77, 0), At(img, 0, 0));
        Assert.Equal((255, 77, 255), At(img, 509, 0)); // green, one value, stays
        // Too few pixels for a step: unchanged.
        var small = new RgbImage(2, 1, new byte[] { 10, 10, 10, 200, 200, 200 });
        RandAugment.Equalize(small);
        Assert.Equal(new byte[] { 10, 10, 10, 200, 200, 200 }, small.Pixels);
    }

    [Fact]
    public void Two_operations_are_drawn_per_image_from_the_generator_and_reproduce_with_it()
    {
        var img = Gradient(12, 12);
        int changed = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            var a = RandAugment.Apply(img.Clone(), new StrixRandom(seed));
            var b = RandAugment.Apply(img.Clone(), new StrixRandom(seed));
            Assert.Equal(a.Pixels, b.Pixels);
            if (!a.Pixels.SequenceEqual(img.Pixels)) changed++;
        }
        // Only identity twice (1/196) or no-op pairs leave the image as it was.
        Assert.True(changed >= 36, $"{changed} of 40 changed");
        Assert.Throws<ArgumentOutOfRangeException>(() => RandAugment.Apply(img, new StrixRandom(0), magnitude: 31));
    }

    [Fact]
    public void Auto_augment_names_parse_and_unknown_policies_are_refused_by_name()
    {
        Assert.Equal(AutoAugmentPolicy.RandAugment, ClassifyTransforms.ParseAutoAugment("RandAugment"));
        Assert.Equal(AutoAugmentPolicy.None, ClassifyTransforms.ParseAutoAugment("none"));
        Assert.Equal(AutoAugmentPolicy.None, ClassifyTransforms.ParseAutoAugment(""));
        Assert.Contains("auto_augment=augmix", Assert.Throws<ArgumentException>(() => ClassifyTransforms.ParseAutoAugment("augmix")).Message);
        Assert.Contains("expected randaugment or none", Assert.Throws<ArgumentException>(() => ClassifyTransforms.ParseAutoAugment("rand")).Message);
    }
}
