using Strix.Data;
using Strix.Inference;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Inference;

public class ClassificationPredictTests
{
    [Fact]
    public void Probabilities_rank_the_top_five_best_first_with_ties_by_class_id()
    {
        var p = new ClassProbabilities(new[] { 0.05f, 0.3f, 0.05f, 0.4f, 0.1f, 0.05f, 0.05f });
        Assert.Equal(3, p.Top1);
        Assert.Equal(new[] { 3, 1, 4, 0, 2 }, p.Top5);
        Assert.Equal(0.4f, p.Top1Conf);
        Assert.Equal(new[] { 0.4f, 0.3f, 0.1f, 0.05f, 0.05f }, p.Top5Conf);
        Assert.Equal(new[] { 1, 0 }, new ClassProbabilities(new[] { 0.2f, 0.8f }).Top5);
    }

    [Fact]
    public void A_classifier_predicts_probabilities_not_boxes_and_writes_them_as_ultralytics_does()
    {
        manual_seed(2);
        using var model = DetectionModel.Create("yolov8n-cls", 3);
        var names = new[] { "good", "scratch", "dent" };
        using var yolo = new Yolo(model, names, imageSize: 64);
        var image = RgbImage.Filled(90, 60, 120, 80, 40);
        var r = yolo.Predict(image, new PredictOptions { KeepImages = true });
        Assert.NotNull(r.Probs);
        Assert.Empty(r.Detections);
        Assert.Equal(3, r.Probs!.Data.Length);
        Assert.Equal(1.0, r.Probs.Data.Sum(), 5);

        // The same numbers as the model on the centre crop, by hand.
        model.eval();
        using var x = Predictor.ToTensor(new[] { ClassifyTransforms.CenterCrop(image, 64) }, CPU);
        using var expected = model.PredictClasses(x);
        Assert.Equal(expected.data<float>().ToArray(), r.Probs.Data, new FloatNear(1e-5f));

        var lines = r.ToTxt().TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal($"{r.Probs.Top1Conf.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)} {names[r.Probs.Top1]}", lines[0]);
        Assert.StartsWith(names[r.Probs.Top1] + " ", r.Summary());
        var drawn = r.Plot();
        Assert.Equal((90, 60), (drawn.Width, drawn.Height));
        Assert.NotEqual(image.Pixels, drawn.Pixels); // the caption is drawn
    }

    sealed class FloatNear(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float f) => 0;
    }
}
