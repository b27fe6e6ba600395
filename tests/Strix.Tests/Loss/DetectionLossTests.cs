using Strix.Loss;
using Strix.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

public class DetectionLossTests(ITestOutputHelper output)
{
    /// <summary>Two targets in image 0 and one in image 1 (class, normalised xywh).</summary>
    static (Tensor BatchIdx, Tensor Cls, Tensor Boxes) ThreeTargets() => (
        tensor(new float[] { 0, 1, 0 }),
        tensor(new float[] { 2, 0, 1 }),
        tensor(new float[] { 0.30f, 0.40f, 0.35f, 0.50f, 0.60f, 0.55f, 0.50f, 0.40f, 0.70f, 0.70f, 0.30f, 0.25f }).reshape(3, 4));

    [Fact]
    public void LossIsFinitePositiveAndDifferentiableForYolov8n()
    {
        manual_seed(0);
        using var scope = NewDisposeScope();
        using var model = DetectionModel.Create("yolov8n", 3);
        model.train();
        var x = rand(2, 3, 64, 64);
        var preds = model.forward(x);
        var (bi, c, b) = ThreeTargets();
        var criterion = new DetectionLoss(model);
        Assert.Equal((7.5, 0.5, 1.5), (criterion.Box, criterion.Cls, criterion.Dfl));
        var (loss, items) = criterion.Compute(preds, bi, c, b);

        Assert.Equal(0, loss.dim());
        Assert.Equal(new long[] { 3 }, items.shape);
        Assert.False(items.requires_grad);
        var it = items.data<float>().ToArray();
        Assert.All(it, v => Assert.True(float.IsFinite(v) && v > 0, $"items {string.Join(", ", it)}"));
        Assert.Equal(it.Sum() * 2, loss.item<float>(), 3);                                 // × batch size

        loss.backward();
        int withGrad = 0;
        foreach (var (name, p) in model.Head.named_parameters())
        {
            if (!p.requires_grad) continue;                                                 // the fixed DFL integral
            Assert.True(p.grad is not null, $"no gradient for head parameter {name}");
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"non-finite gradient in head parameter {name}");
            withGrad++;
        }
        Assert.True(withGrad >= 30);
        // The box branch really learns from the box losses, not only the class branch.
        var boxFinal = ((nn.Module)model.Head.cv2[0][2]).parameters().First();
        Assert.True(boxFinal.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void EmptyTargetsGiveZeroBoxAndDflButPositiveClassLoss()
    {
        manual_seed(1);
        using var scope = NewDisposeScope();
        using var model = DetectionModel.Create("yolov8n", 3);
        var preds = model.forward(rand(2, 3, 64, 64));
        var criterion = new DetectionLoss(model);
        var (loss, items) = criterion.Compute(preds, zeros(0), zeros(0), zeros(0, 4));
        var it = items.data<float>().ToArray();
        Assert.Equal(0f, it[0]);
        Assert.True(it[1] > 0);
        Assert.Equal(0f, it[2]);
        // With no targets the class loss is plain BCE against zeros, summed (normaliser 1), × gain.
        var scores = cat(preds.Select(p => p[.., 64..].flatten()).ToArray());
        var bce = nn.functional.binary_cross_entropy_with_logits(scores, zeros_like(scores), reduction: nn.Reduction.Sum) * 0.5;
        Assert.Equal(bce.item<float>(), it[1], 2);
        loss.backward();
        Assert.True(((nn.Module)model.Head.cv3[0][2]).parameters().First().grad!.isfinite().all().item<bool>());
    }

    [Fact]
    public void BFloat16PredictionsAreScoredInFloat32()
    {
        manual_seed(2);
        using var scope = NewDisposeScope();
        var preds = new[] { randn(2, 67, 8, 8), randn(2, 67, 4, 4), randn(2, 67, 2, 2) }
            .Select(p => p.to(ScalarType.BFloat16)).ToArray();
        var (bi, c, b) = ThreeTargets();
        var criterion = new DetectionLoss(3, new float[] { 8, 16, 32 });
        var (loss16, items16) = criterion.Compute(preds, bi, c, b);
        var (loss32, items32) = criterion.Compute(preds.Select(p => p.to(ScalarType.Float32)).ToArray(), bi, c, b);
        Assert.Equal(ScalarType.Float32, loss16.dtype);
        Assert.Equal(ScalarType.Float32, items16.dtype);
        Assert.True(items16.eq(items32).all().item<bool>());
        Assert.Equal(loss32.item<float>(), loss16.item<float>());
    }

    [Fact]
    public void GainsScaleTheirItems()
    {
        manual_seed(3);
        using var scope = NewDisposeScope();
        var preds = new[] { randn(1, 67, 8, 8), randn(1, 67, 4, 4), randn(1, 67, 2, 2) };
        var (bi, c, b) = ThreeTargets();
        bi = zeros(3);
        var (_, unit) = new DetectionLoss(3, new float[] { 8, 16, 32 }, box: 1, cls: 1, dfl: 1).Compute(preds, bi, c, b);
        var (loss, gained) = new DetectionLoss(3, new float[] { 8, 16, 32 }).Compute(preds, bi, c, b);
        Assert.True(gained.allclose(unit * tensor(new float[] { 7.5f, 0.5f, 1.5f }), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(gained.sum().item<float>(), loss.item<float>(), 4);                    // batch size 1
    }

    [Fact]
    public void BuildTargetsPadsPerImageInInputOrder()
    {
        using var scope = NewDisposeScope();
        // Image size 32 (h) × 64 (w); targets for images 2, 0, 2, 0, 0 of a batch of 3.
        var bi = tensor(new float[] { 2, 0, 2, 0, 0 });
        var cls = tensor(new float[] { 1, 2, 0, 1, 0 });
        var boxes = tensor(new float[] {
            0.5f, 0.5f, 0.5f, 0.5f,      // img 2 #0 → (16, 8, 48, 24)
            0.25f, 0.25f, 0.25f, 0.5f,   // img 0 #0 → (8, 0, 24, 16)
            0.1f, 0.2f, 0.2f, 0.2f,      // img 2 #1 → (0, 3.2, 12.8, 9.6)
            0.75f, 0.5f, 0.5f, 1.0f,     // img 0 #1 → (32, 0, 64, 32)
            0.5f, 0.75f, 0.25f, 0.25f,   // img 0 #2 → (24, 20, 40, 28)
        }).reshape(5, 4);
        var (labels, xyxy) = DetectionLoss.BuildTargets(bi, cls, boxes, 3, tensor(new float[] { 32, 64 }), CPU, 3);
        Assert.Equal(new long[] { 3, 3, 1 }, labels.shape);
        Assert.Equal(new long[] { 3, 3, 4 }, xyxy.shape);
        Assert.Equal(new float[] { 2, 1, 0, 0, 0, 0, 1, 0, 0 }, labels.flatten().data<float>().ToArray());
        var expected = tensor(new float[] {
            8, 0, 24, 16,   32, 0, 64, 32,   24, 20, 40, 28,
            0, 0, 0, 0,     0, 0, 0, 0,      0, 0, 0, 0,
            16, 8, 48, 24,  0, 3.2f, 12.8f, 9.6f,  0, 0, 0, 0 }).reshape(3, 3, 4);
        Assert.True(xyxy.allclose(expected, atol: 1e-5));
    }

    [Fact]
    public void BadTargetsAreRejectedWithTheOffendingValue()
    {
        using var scope = NewDisposeScope();
        var preds = new[] { randn(2, 67, 8, 8), randn(2, 67, 4, 4), randn(2, 67, 2, 2) };
        var criterion = new DetectionLoss(3, new float[] { 8, 16, 32 });
        var box = tensor(new float[] { 0.5f, 0.5f, 0.2f, 0.2f }).reshape(1, 4);
        var e1 = Assert.Throws<ArgumentException>(() => criterion.Compute(preds, tensor(new float[] { 2 }), tensor(new float[] { 0 }), box));
        Assert.Contains("batch index 2", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => criterion.Compute(preds, tensor(new float[] { 0 }), tensor(new float[] { 3 }), box));
        Assert.Contains("class 3", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => criterion.Compute(preds.Take(2).ToArray(), tensor(new float[] { 0 }), tensor(new float[] { 0 }), box));
        Assert.Contains("3 prediction levels", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => criterion.Compute(new[] { randn(2, 66, 8, 8), preds[1], preds[2] }, tensor(new float[] { 0 }), tensor(new float[] { 0 }), box));
        Assert.Contains("[B, 67, H, W]", e4.Message);
    }

    [Fact]
    public void TinyModelOverfitsOneImage()
    {
        manual_seed(0);
        using var scope = NewDisposeScope();
        using var model = new DetectionModel(new YoloScale("t", 0.33, 0.0625, 1024), 2);
        model.train();
        // A bright 24×16 rectangle at (20, 28)–(44, 44) on a dark 64×64 image, class 1.
        var img = full(1, 3, 64, 64, 0.1f);
        img[.., .., 28..44, 20..44] = tensor(0.9f);
        var bi = zeros(1);
        var cls = ones(1);
        var box = tensor(new float[] { 32 / 64f, 36 / 64f, 24 / 64f, 16 / 64f }).reshape(1, 4);
        var criterion = new DetectionLoss(model);
        var opt = optim.Adam(model.parameters(), lr: 0.01);
        float first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            using var stepScope = NewDisposeScope();
            opt.zero_grad();
            var (loss, _) = criterion.Compute(model.forward(img), bi, cls, box);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        output.WriteLine($"tiny model, 30 Adam steps: loss {first:F3} -> {last:F3}");
        Assert.True(last < 0.5f * first, $"loss went from {first} to {last}");
    }
}
