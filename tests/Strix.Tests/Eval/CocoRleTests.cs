using Strix.Eval;

namespace Strix.Tests.Eval;

public class CocoRleTests
{
    [Fact]
    public void A_centre_pixel_is_runs_of_four_one_four()
    {
        // 3×3 with the centre set: column-major 0 0 0 | 0 1 0 | 0 0 0 → runs 4, 1, 4; each fits one character ('0' + n).
        var mask = new byte[] { 0, 0, 0, 0, 1, 0, 0, 0, 0 };
        var rle = CocoRle.Encode(mask, 3, 3);
        Assert.Equal("414", rle.Counts);
        Assert.Equal(new long[] { 4, 1, 4 }, rle.Runs());
        Assert.Equal(1, rle.Area);
        Assert.Equal(mask, rle.Decode());
    }

    [Fact]
    public void Counts_after_the_second_are_differences_and_large_counts_take_several_characters()
    {
        // Rows (1 0), (1 0), (0 1): column-major 1 1 0 | 0 0 1 → runs 0, 2, 3, 1. The fourth is stored as 1 − 2 = −1,
        // the five bits 11111 with the sign bit set and nothing more to come: '0' + 31 = 'O'.
        var mask = new byte[] { 1, 0, 1, 0, 0, 1 };
        var rle = CocoRle.Encode(mask, 3, 2);
        Assert.Equal("023O", rle.Counts);
        Assert.Equal(mask, rle.Decode());
        // 100 = 3·32 + 4: low five bits 4 with the continuation bit ('0' + 36 = 'T'), then 3.
        Assert.Equal("T3", CocoRle.Encode(new byte[100], 10, 10).Counts);
    }

    [Fact]
    public void Random_masks_round_trip()
    {
        var rng = new Random(3);
        for (int t = 0; t < 20; t++)
        {
            int h = rng.Next(1, 40), w = rng.Next(1, 40);
            var mask = new byte[h * w];
            // Blobs and noise: long and short runs, growing and shrinking (negative differences).
            for (int i = 0; i < mask.Length; i++) mask[i] = (byte)(rng.NextDouble() < (i % 7 < 3 ? 0.9 : 0.1) ? 1 : 0);
            var rle = CocoRle.Encode(mask, h, w);
            Assert.Equal(mask, rle.Decode());
            Assert.Equal(mask.Count(v => v != 0), rle.Area);
        }
    }

    [Fact]
    public void Damaged_counts_are_refused()
    {
        Assert.Throws<InvalidDataException>(() => new CocoRle(3, 3, "41").Decode()); // covers 5 of 9 pixels
        Assert.Throws<InvalidDataException>(() => new CocoRle(3, 3, "T").Decode()); // ends inside a number
    }
}
