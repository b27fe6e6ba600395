using Strix.Data;

namespace Strix.Tests.Data;

public class LetterboxTests
{
    [Fact]
    public void KeepsAspectAndPadsWith114Centred()
    {
        var img = RgbImage.Filled(200, 100, 10, 20, 30);
        var r = Letterbox.Apply(img, 64, 64);
        Assert.Equal((64, 64), (r.Image.Width, r.Image.Height));
        Assert.Equal(0.32, r.RatioW, 6);
        Assert.Equal(64, r.ResizedWidth);
        Assert.Equal(32, r.ResizedHeight);
        Assert.Equal(0, r.PadW);
        Assert.Equal(16, r.PadH);
        Assert.Equal(114, r.Image.Pixels[0]);                  // top padding row
        Assert.Equal(10, r.Image.Pixels[(20 * 64 + 5) * 3]);   // inside the image
        Assert.Equal(114, r.Image.Pixels[(60 * 64 + 5) * 3]);  // bottom padding row
    }

    [Fact]
    public void AutoPadsOnlyToStrideMultiple()
    {
        var img = RgbImage.Filled(1080, 810, 0, 0, 0);
        var r = Letterbox.Apply(img, 640, 640, auto: true, stride: 32);
        Assert.Equal(640, r.Image.Width);
        Assert.Equal(480, r.Image.Height); // 810·(640/1080) = 480, already a multiple of 32
    }

    [Fact]
    public void BilinearResizeOfConstantIsConstantAndOfRampIsMonotone()
    {
        var px = new byte[8 * 1 * 3];
        for (int x = 0; x < 8; x++) px[x * 3] = (byte)(x * 30);
        var ramp = new RgbImage(8, 1, px);
        var up = ImageOps.ResizeBilinear(ramp, 16, 1);
        for (int x = 1; x < 16; x++) Assert.True(up.Pixels[x * 3] >= up.Pixels[(x - 1) * 3]);
        Assert.Equal(0, up.Pixels[0]);
        Assert.Equal(210, up.Pixels[15 * 3]);
        // Half-pixel centres: output pixel 1 samples x = 0.25 → 0.25·30 = 7.5 → rounds to 8.
        Assert.Equal(8, up.Pixels[1 * 3]);
        var flat = ImageOps.ResizeBilinear(RgbImage.Filled(7, 5, 77, 88, 99), 13, 3);
        Assert.All(Enumerable.Range(0, 13 * 3), i => Assert.Equal(new byte[] { 77, 88, 99 }, flat.Pixels[(i * 3)..(i * 3 + 3)]));
    }
}
