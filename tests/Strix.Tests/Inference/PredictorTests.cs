using static Strix.Tests.Inference.TestPredictors;
using Strix.Plotting;
using Strix.Data;
using Strix.Inference;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Inference;

/// <summary>A backend that returns fixed detections in model-input pixels, to test letterbox undo and drawing.</summary>
sealed class FixedBackend : IDetectionBackend
{
    readonly float[] _rows; // (cx, cy, w, h, s0, s1) per anchor
    public FixedBackend(params float[][] rows) { _rows = rows.SelectMany(r => r).ToArray(); Count = rows.Length; }
    int Count { get; }
    public Tensor? LastInput;
    public IReadOnlyList<string> Names { get; } = new[] { "square", "disc" };
    public int ImageSize => 64;
    public int Stride => 32;
    public bool DynamicShape => true;
    public Device Device => CPU;
    public Tensor Forward(Tensor images)
    {
        LastInput?.Dispose();
        LastInput = images.clone();
        var one = tensor(_rows, new long[] { Count, 6 }).transpose(0, 1);
        return one.unsqueeze(0).expand(images.shape[0], 6, Count).contiguous();
    }
    public void Dispose() => LastInput?.Dispose();
}

public class PredictorTests
{
    [SkippableFact]
    public void BoxesAreScaledBackThroughTheLetterbox()
    {
        // 128×64 image → letterbox to 64 (auto): resized to 64×32, no padding needed (32 is a multiple of 32).
        // A box at input (16..48, 8..24) maps back to original (32..96, 16..48).
        using var backend = new FixedBackend(new[] { 32f, 16, 32, 16, 0.9f, 0.1f });
        var predictor = NewPredictor(backend, new PredictOptions { ImgSz = 64 });
        var r = predictor.Predict(new[] { RgbImage.Filled(128, 64, 0, 0, 0) }).Single();
        Assert.Equal(new long[] { 1, 3, 32, 64 }, backend.LastInput!.shape);
        var d = Assert.Single(r.Detections);
        Assert.Equal("square", d.ClassName);
        Assert.Equal(new BoundingBox(32, 16, 96, 48), d.Box);
        Assert.Equal((64, 128), r.OrigShape);
        Assert.Equal(new[] { 0.5f, 0.5f, 0.5f, 0.5f }, r.XywhN[0]);
        Assert.Equal("0 0.5 0.5 0.5 0.5 0.9\n", r.ToTxt(saveConf: true));
    }

    [SkippableFact]
    public void PaddedLetterboxIsUndone()
    {
        // 64×32 image, square input 64 (different shapes in batch → no auto): scale 1, pad 16 on top.
        using var backend = new FixedBackend(new[] { 32f, 32, 20, 10, 0.1f, 0.8f });
        var predictor = NewPredictor(backend, new PredictOptions { ImgSz = 64, Batch = 2 });
        var rs = predictor.Predict(new[] { RgbImage.Filled(64, 32, 0, 0, 0), RgbImage.Filled(32, 64, 0, 0, 0) }).ToList();
        Assert.Equal(new long[] { 2, 3, 64, 64 }, backend.LastInput!.shape);
        Assert.Equal(new BoundingBox(22, 11, 42, 21), rs[0].Detections[0].Box);
        Assert.Equal("disc", rs[0].Detections[0].ClassName);
        // Second image: pad 16 left → x 22−16..42−16 = 6..26, y 27..37.
        Assert.Equal(new BoundingBox(6, 27, 26, 37), rs[1].Detections[0].Box);
    }

    [SkippableFact]
    public void InputTensorIsRgbInZeroToOne()
    {
        using var backend = new FixedBackend(new[] { 32f, 32, 20, 10, 0.9f, 0.1f });
        var predictor = NewPredictor(backend, new PredictOptions { ImgSz = 64 });
        predictor.Predict(new[] { RgbImage.Filled(64, 64, 255, 0, 51) }).ToList();
        var px = backend.LastInput![0, .., 10, 10].data<float>().ToArray();
        Assert.Equal(new[] { 1f, 0f, 0.2f }, px);
    }

    [SkippableFact]
    public void DrawingPutsClassColouredBoxesOnTheImage()
    {
        using var backend = new FixedBackend(new[] { 32f, 32, 40, 40, 0.9f, 0.1f });
        var predictor = NewPredictor(backend, new PredictOptions { ImgSz = 64 });
        var r = predictor.Predict(new[] { RgbImage.Filled(64, 64, 0, 0, 0) }).Single();
        var plotted = r.Plot();
        var c = Annotator.ColorFor(0);
        // Left edge of the box at x = 12, halfway down: the class colour; the centre stays black.
        int Px(int x, int y, int ch) => plotted.Pixels[(y * 64 + x) * 3 + ch];
        Assert.InRange(Math.Abs(Px(12, 40, 0) - c.Red) + Math.Abs(Px(12, 40, 1) - c.Green) + Math.Abs(Px(12, 40, 2) - c.Blue), 0, 30);
        Assert.Equal(0, Px(32, 40, 0) + Px(32, 40, 1) + Px(32, 40, 2));
        // A label background is drawn above/inside the top edge: some non-black pixels near the top-left corner.
        Assert.Contains(Enumerable.Range(13, 20), x => Px(x, 14, 0) + Px(x, 14, 1) + Px(x, 14, 2) > 0);
        var path = Path.Combine(TestPaths.NewTempDir(), "plot.jpg");
        r.Save(path);
        Assert.Equal((64, 64), ImageIO.ReadSize(path));
    }

    [SkippableFact]
    public void UnreadableFilesAreReportedAndTheRestStillRuns()
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllBytes(Path.Combine(dir, "empty.jpg"), Array.Empty<byte>());
        File.WriteAllText(Path.Combine(dir, "text.jpg"), "not an image");
        var good = File.ReadAllBytes(TestPaths.Asset("samples", "bus.jpg"));
        File.WriteAllBytes(Path.Combine(dir, "truncated.jpg"), good[..(good.Length / 3)]);
        File.Copy(TestPaths.Asset("samples", "bus.jpg"), Path.Combine(dir, "bus.jpg"));
        using var backend = new FixedBackend(new[] { 32f, 32, 20, 10, 0.9f, 0.1f });
        var errors = new List<string>();
        var predictor = NewPredictor(backend, new PredictOptions { ImgSz = 64 });
        predictor.OnError = (p, e) => errors.Add($"{Path.GetFileName(p)}: {e.Message}");
        var results = predictor.Predict(ImageSources.Expand(dir)).ToList();
        Assert.Equal(new[] { "bus.jpg" }, results.Select(r => Path.GetFileName(r.Path!)));
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("empty.jpg") && e.Contains("empty"));
        Assert.Contains(errors, e => e.StartsWith("text.jpg") && e.Contains("not a decodable image"));
        Assert.Contains(errors, e => e.StartsWith("truncated.jpg") && e.Contains("truncated"));
        Assert.Throws<FileNotFoundException>(() => ImageSources.Expand(Path.Combine(dir, "missing.jpg")));
    }

    [SkippableFact]
    public void RealModelRunsEndToEndOnASamplePhoto()
    {
        using var model = new DetectionModel(new YoloScale("t", 0.33, 0.0625, 1024), 2);
        using var backend = new TorchBackend(model, new[] { "a", "b" }, 128);
        var predictor = NewPredictor(backend, new PredictOptions { Conf = 0.0, MaxDet = 5 });
        var r = predictor.Predict(new[] { TestPaths.Asset("samples", "bus.jpg") }).Single();
        Assert.Equal((1080, 810), r.OrigShape);
        Assert.Equal(5, r.Count);
        Assert.All(r.Detections, d => Assert.True(d.Box.X1 >= 0 && d.Box.X2 <= 810 && d.Box.Y1 >= 0 && d.Box.Y2 <= 1080));
        Assert.True(r.Speed.Inference > 0);
    }
}
