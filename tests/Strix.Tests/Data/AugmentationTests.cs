using Strix.Runtime;
using Strix.Data;

namespace Strix.Tests.Data;

public class AugmentationTests
{
    static readonly Lazy<string> RectYaml = new(() => DataFixtures.Rectangles(TestPaths.NewTempDir(), 12));

    static YoloDataset RectDataset(AugmentationOptions hyp, int imgsz = 128) =>
        YoloDataset.Create(DatasetConfig.Load(RectYaml.Value), "train",
            new DataLoaderOptions { ImgSize = imgsz, Augment = true, Hyp = hyp, Seed = 3 }, _ => { });

    static (byte R, byte G, byte B) Px(RgbImage img, int x, int y)
    {
        int i = (y * img.Width + x) * 3;
        return (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]);
    }

    static bool Near((byte R, byte G, byte B) a, (byte R, byte G, byte B) b, int tol) =>
        Math.Abs(a.R - b.R) <= tol && Math.Abs(a.G - b.G) <= tol && Math.Abs(a.B - b.B) <= tol;

    static IEnumerable<(int Cls, float X1, float Y1, float X2, float Y2)> PixelBoxes(Sample s)
    {
        for (int i = 0; i < s.Count; i++)
        {
            float cx = s.Boxes[4 * i] * s.Image.Width, cy = s.Boxes[4 * i + 1] * s.Image.Height;
            float w = s.Boxes[4 * i + 2] * s.Image.Width, h = s.Boxes[4 * i + 3] * s.Image.Height;
            yield return ((int)s.Cls[i], cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
        }
    }

    [Fact]
    public void PixelsInsideTransformedBoxesAreTheLabelledRectangle()
    {
        // Mosaic, translate, scale and flips on; colour jitter off so colours identify the class.
        var ds = RectDataset(new AugmentationOptions { HsvH = 0, HsvS = 0, HsvV = 0, FlipUD = 0.5 });
        int boxes = 0;
        for (int epoch = 0; epoch < 3; epoch++)
            for (int i = 0; i < ds.Count; i++)
            {
                var s = ds.Load(i, epoch);
                Assert.Equal((128, 128), (s.Image.Width, s.Image.Height));
                foreach (var (c, x1, y1, x2, y2) in PixelBoxes(s))
                {
                    Assert.InRange(x1, -1e-3f, 128.001f); Assert.InRange(x2, x1 + 2, 128.001f);
                    Assert.InRange(y1, -1e-3f, 128.001f); Assert.InRange(y2, y1 + 2, 128.001f);
                    // Inset by 2.5 px: edges are bilinear blends (load resize, then warp) with the neighbour.
                    for (int y = (int)MathF.Ceiling(y1 + 2.5f); y < y2 - 2.5f; y++)
                        for (int x = (int)MathF.Ceiling(x1 + 2.5f); x < x2 - 2.5f; x++)
                            Assert.True(Near(Px(s.Image, x, y), DataFixtures.ClassColors[c], 3),
                                $"sample {i} epoch {epoch}: pixel ({x},{y}) = {Px(s.Image, x, y)} inside box of class {c}");
                    boxes++;
                }
            }
        Assert.True(boxes > 40, $"only {boxes} boxes checked");
    }

    [Fact]
    public void RotatedAndShearedBoxesAreCentredOnTheirObjectsAndTight()
    {
        var ds = RectDataset(new AugmentationOptions { HsvH = 0, HsvS = 0, HsvV = 0, Degrees = 30, Shear = 8 });
        int checkedBoxes = 0;
        for (int i = 0; i < ds.Count; i++)
        {
            var s = ds.Load(i, 1);
            int W = s.Image.Width, H = s.Image.Height;
            foreach (var (c, x1, y1, x2, y2) in PixelBoxes(s))
            {
                // Boxes cut by the output border are not symmetric about their object; skip them.
                if (x1 < 1 || y1 < 1 || x2 > W - 1 || y2 > H - 1 || x2 - x1 < 8 || y2 - y1 < 8) continue;
                var color = DataFixtures.ClassColors[c];
                // The box of a rotated/sheared rectangle is centred on it …
                int cx = (int)((x1 + x2) / 2), cy = (int)((y1 + y2) / 2);
                Assert.True(Near(Px(s.Image, cx, cy), color, 6), $"sample {i}: box centre ({cx},{cy}) = {Px(s.Image, cx, cy)} is not class {c}");
                // … and tight: the object reaches within 2.5 px of each edge (its corners touch the box).
                bool Any(Func<int, (int, int)> at, int n) => Enumerable.Range(0, n).Select(at)
                    .Any(p => p.Item1 >= 0 && p.Item2 >= 0 && p.Item1 < W && p.Item2 < H && Near(Px(s.Image, p.Item1, p.Item2), color, 70));
                int bw = (int)(x2 - x1) + 1, bh = (int)(y2 - y1) + 1;
                Assert.True(Enumerable.Range(0, 3).Any(d => Any(k => ((int)x1 + k, (int)(y1 + 0.5f) + d), bw)), $"sample {i}: top edge of class-{c} box is loose");
                Assert.True(Enumerable.Range(0, 3).Any(d => Any(k => ((int)x1 + k, (int)(y2 - 0.5f) - d), bw)), $"sample {i}: bottom edge of class-{c} box is loose");
                Assert.True(Enumerable.Range(0, 3).Any(d => Any(k => ((int)(x1 + 0.5f) + d, (int)y1 + k), bh)), $"sample {i}: left edge of class-{c} box is loose");
                Assert.True(Enumerable.Range(0, 3).Any(d => Any(k => ((int)(x2 - 0.5f) - d, (int)y1 + k), bh)), $"sample {i}: right edge of class-{c} box is loose");
                checkedBoxes++;
            }
        }
        Assert.True(checkedBoxes > 10, $"only {checkedBoxes} boxes checked");
    }

    [Fact]
    public void SameSeedEpochIndexGivesTheSameSample()
    {
        var ds = RectDataset(new AugmentationOptions { MixUp = 0.5, Degrees = 10 });
        var a = ds.Load(5, 2);
        var b = ds.Load(5, 2);
        Assert.Equal(a.Image.Pixels, b.Image.Pixels);
        Assert.Equal(a.Boxes, b.Boxes);
        Assert.NotEqual(a.Image.Pixels, ds.Load(5, 3).Image.Pixels);
    }

    [Fact]
    public void TwoHorizontalFlipsAreTheIdentity()
    {
        var rng = new StrixRandom(1);
        var img = new RgbImage(7, 5, Enumerable.Range(0, 7 * 5 * 3).Select(_ => (byte)rng.NextInt(256)).ToArray());
        var orig = img.Clone();
        var labels = new Instances(new float[] { 1 }, new float[] { 1, 2, 4, 5 });
        RandomFlip.Horizontal(img, labels);
        Assert.NotEqual(orig.Pixels, img.Pixels);
        Assert.Equal(new float[] { 3, 2, 6, 5 }, labels.Xyxy);
        Assert.Equal(orig.Pixels.AsSpan(0, 3).ToArray(), img.Pixels.AsSpan(6 * 3, 3).ToArray()); // first pixel became last of row 0
        RandomFlip.Horizontal(img, labels);
        Assert.Equal(orig.Pixels, img.Pixels);
        Assert.Equal(new float[] { 1, 2, 4, 5 }, labels.Xyxy);

        RandomFlip.Vertical(img, labels);
        Assert.Equal(new float[] { 1, 0, 4, 3 }, labels.Xyxy);
        RandomFlip.Vertical(img, labels);
        Assert.Equal(orig.Pixels, img.Pixels);
    }

    [Fact]
    public void IntegerTranslationWarpMovesPixelsExactly()
    {
        var rng = new StrixRandom(2);
        var img = new RgbImage(10, 8, Enumerable.Range(0, 10 * 8 * 3).Select(_ => (byte)rng.NextInt(256)).ToArray());
        double[] m = { 1, 0, 3, 0, 1, 2, 0, 0, 1 };
        var w = AffineWarp.Warp(img, m, 12, 9);
        for (int y = 0; y < 9; y++)
            for (int x = 0; x < 12; x++)
            {
                int sx = x - 3, sy = y - 2;
                var expect = sx >= 0 && sy >= 0 && sx < 10 && sy < 8 ? Px(img, sx, sy) : ((byte)114, (byte)114, (byte)114);
                Assert.Equal(expect, Px(w, x, y));
            }
        Assert.Equal(img.Pixels, AffineWarp.Warp(img, AffineWarp.Identity(), 10, 8).Pixels);
    }

    [Fact]
    public void BoxTransformEnclosesRotatedCorners()
    {
        // 90° rotation about the origin: (x, y) → (−y, x); box [1,2]-[3,6] → [−6,1]-[−2,3].
        double[] rot = { 0, -1, 0, 1, 0, 0, 0, 0, 1 };
        Assert.Equal(new float[] { -6, 1, -2, 3 }, AffineWarp.TransformBoxes(new float[] { 1, 2, 3, 6 }, rot));
        var inv = AffineWarp.Invert(rot);
        Assert.Equal(AffineWarp.Identity(), AffineWarp.Multiply(rot, inv).Select(v => Math.Round(v, 12) + 0.0).ToArray());
    }

    [Fact]
    public void CandidateFilterDropsSmallThinAndMostlyLostBoxes()
    {
        Assert.True(RandomPerspective.IsCandidate(10, 10, 10, 10));
        Assert.False(RandomPerspective.IsCandidate(10, 10, 2, 10));      // not wider than 2 px
        Assert.False(RandomPerspective.IsCandidate(10, 10, 3, 3));       // 9 % of the area left
        Assert.True(RandomPerspective.IsCandidate(10, 10, 3.2, 3.2));    // 10.24 %
        Assert.False(RandomPerspective.IsCandidate(1000, 10, 300, 2.9)); // aspect ratio 103 > 100
    }

    [Fact]
    public void PerspectiveWithZeroRangesIsTheIdentity()
    {
        var img = RgbImage.Filled(20, 10, 5, 6, 7);
        var labels = new Instances(new float[] { 0 }, new float[] { 2, 2, 8, 6 });
        var (o, l) = RandomPerspective.Apply(img, labels, AugmentationOptions.None, new StrixRandom(0));
        Assert.Same(img, o);
        Assert.Equal(labels.Xyxy, l.Xyxy);
    }

    [Fact]
    public void HsvGainsOfOneKeepColoursAndZeroSaturationGivesGrey()
    {
        var rng = new StrixRandom(4);
        var img = new RgbImage(32, 32, Enumerable.Range(0, 32 * 32 * 3).Select(_ => (byte)rng.NextInt(256)).ToArray());
        var copy = img.Clone();
        RandomHsv.ApplyGains(copy, 1, 1, 1);
        int maxDiff = img.Pixels.Zip(copy.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff <= 4, $"round trip through 8-bit HSV changed a channel by {maxDiff}");

        var px = new RgbImage(1, 1, new byte[] { 200, 50, 50 });
        RandomHsv.ApplyGains(px, 1, 0, 1);
        Assert.Equal(new byte[] { 200, 200, 200 }, px.Pixels);
        px = new RgbImage(1, 1, new byte[] { 200, 50, 50 });
        RandomHsv.ApplyGains(px, 1, 1, 0.5);
        Assert.Equal(new byte[] { 100, 25, 25 }, px.Pixels);
        // Hue 0 (red) → 60 (=120°, green) when the hue gain maps it there: H'=(H·r) mod 180 keeps 0 at 0.
        px = new RgbImage(1, 1, new byte[] { 50, 200, 50 }); // H = 60
        RandomHsv.ApplyGains(px, 2, 1, 1);                   // H = 120 → blue
        Assert.Equal(new byte[] { 50, 50, 200 }, px.Pixels);
    }

    [Fact]
    public void MixUpBlendsNearHalfAndKeepsBothLabelSets()
    {
        var a = RgbImage.Filled(4, 4, 200, 0, 100);
        var b = RgbImage.Filled(4, 4, 0, 200, 100);
        var (m, l) = MixUp.Apply(a, new Instances(new float[] { 0 }, new float[] { 0, 0, 1, 1 }), b, new Instances(new float[] { 1 }, new float[] { 1, 1, 2, 2 }), new StrixRandom(9));
        Assert.Equal(new float[] { 0, 1 }, l.Cls);
        Assert.InRange(m.Pixels[0], 70, 130);
        Assert.InRange(m.Pixels[0] + m.Pixels[1], 198, 200);
        Assert.Equal(100, m.Pixels[2]);
        // Beta(32, 32) has mean ½ and sd ≈ 0.062.
        var rng = new StrixRandom(10);
        var draws = Enumerable.Range(0, 4000).Select(_ => rng.Beta(32, 32)).ToArray();
        Assert.Equal(0.5, draws.Average(), 2);
        Assert.InRange(Math.Sqrt(draws.Select(d => (d - 0.5) * (d - 0.5)).Average()), 0.055, 0.07);
    }

    [Fact]
    public void ValidationLetterboxReportsRatioAndPad()
    {
        var root = TestPaths.NewTempDir();
        var yaml = DataFixtures.Make(root, new[] { new DataFixtures.Img("wide.png", 200, 100, null) { Rects = new[] { (1, 0.25f, 0.5f, 0.2f, 0.4f) } } });
        var ds = YoloDataset.Create(DatasetConfig.Load(yaml), "val", new DataLoaderOptions { ImgSize = 64 }, _ => { });
        var s = ds.Load(0, 0);
        Assert.Equal((64, 64), (s.Image.Width, s.Image.Height));
        Assert.Equal((100, 200), s.OriginalShape);
        Assert.Equal((32, 64), s.ResizedShape);
        Assert.Equal((0.32, 0.32, 0.0, 16.0), s.RatioPad);
        // Original box (30,30)-(70,70) px → ·0.32 + pad.
        var (c, x1, y1, x2, y2) = PixelBoxes(s).Single();
        Assert.Equal(1, c);
        Assert.Equal(30 * 0.32f, x1, 3); Assert.Equal(70 * 0.32f, x2, 3);
        Assert.Equal(30 * 0.32f + 16, y1, 3); Assert.Equal(70 * 0.32f + 16, y2, 3);
        Assert.Equal((114, 114, 114), ((int)s.Image.Pixels[0], (int)s.Image.Pixels[1], (int)s.Image.Pixels[2]));
    }

    [Fact]
    public void RectShapesAreStrideMultiplesOfTheBatchAspect()
    {
        static ImageLabels L(int w, int h) => new("x", "y", w, h, Array.Empty<float>(), Array.Empty<float>(), ImageStatus.Background, null, true);
        var items = new[] { L(200, 100), L(400, 200), L(100, 100), L(100, 300), L(100, 200) };
        var shapes = YoloDataset.RectShapes(items, 2, 64, 32, 0.5);
        Assert.Equal(new[] { (64, 96), (96, 96), (96, 64) }, shapes);
        Assert.Equal(new[] { (32, 64), (64, 64), (64, 32) }, YoloDataset.RectShapes(items, 2, 64, 32, 0));
    }
}
