using Strix.Loss;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

/// <summary>
/// The detection loss against an independent PyTorch reference (Fixtures/loss/make_loss_fixture.py):
/// same random head maps and targets, same items, total and gradients.
/// </summary>
public class LossFixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("a", 3)]   // 3 × 32×64, nc 3, an image without objects, targets interleaved across images
    [InlineData("b", 2)]   // 2 × 64×64, nc 2, nested/overlapping boxes (15 multiply-claimed anchors)
    public void MatchesPyTorchReference(string name, int nc)
    {
        using var scope = NewDisposeScope();
        string F(string f) => TestPaths.Fixture("loss", "case_" + name, f);
        var preds = Enumerable.Range(0, 3).Select(i => Npy.LoadFloat32(F($"pred{i}.npy")).requires_grad_(true)).ToArray();
        var batchIdx = Npy.LoadFloat32(F("batch_idx.npy"));
        var cls = Npy.LoadFloat32(F("cls.npy"));
        var bboxes = Npy.LoadFloat32(F("bboxes.npy"));
        var refItems = Npy.LoadFloat32(F("items.npy")).data<float>().ToArray();
        var refLoss = Npy.LoadFloat32(F("loss.npy")).item<float>();

        var loss = new DetectionLoss(nc, new float[] { 8, 16, 32 });
        var (total, items) = loss.Compute(preds, batchIdx, cls, bboxes);
        var got = items.data<float>().ToArray();
        output.WriteLine($"case {name}: items [{string.Join(", ", got)}] vs [{string.Join(", ", refItems)}]; loss {total.item<float>()} vs {refLoss}");
        for (int i = 0; i < 3; i++)
            Assert.True(Math.Abs(got[i] - refItems[i]) < 1e-4, $"item {i}: {got[i]} vs reference {refItems[i]}");
        Assert.True(Math.Abs(total.item<float>() - refLoss) < 1e-5 * Math.Abs(refLoss), $"loss {total.item<float>()} vs reference {refLoss}");

        total.backward();
        for (int i = 0; i < 3; i++)
        {
            var refGrad = Npy.LoadFloat32(F($"grad{i}.npy"));
            var diff = (preds[i].grad! - refGrad).abs().max().item<float>();
            var scale = refGrad.abs().max().item<float>();
            output.WriteLine($"level {i}: max |grad − reference| {diff:E2} (largest |grad| {scale:F4})");
            Assert.True(diff <= 1e-4 * Math.Max(scale, 1), $"level {i}: max grad difference {diff} (largest grad {scale})");
        }
    }
}
