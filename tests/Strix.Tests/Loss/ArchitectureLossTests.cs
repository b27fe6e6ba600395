using Strix.Loss;
using Strix.Models;
using Strix.Models.Architecture;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

/// <summary>The loss and its gradients on every built-in family (4-level heads, attention), in fp32 and bf16 autocast.</summary>
public class ArchitectureLossTests
{
    [Theory]
    [InlineData("yolo11", false)]
    [InlineData("yolo11", true)]
    [InlineData("yolov8-p2", false)]
    [InlineData("yolov8-p6", true)]
    public void Every_parameter_that_learns_gets_a_finite_gradient(string family, bool bf16)
    {
        manual_seed(0);
        using var scope = NewDisposeScope();
        using var model = new DetectionModel(ModelCatalog.Builtin(family), new YoloScale("t", 0.5, 0.125, 1024), 3);
        model.train();
        int s = model.MaxStride;
        var x = rand(2, 3, 2 * s, 2 * s);
        var bi = tensor(new float[] { 0, 1, 1 });
        var cls = tensor(new float[] { 2, 0, 1 });
        var boxes = tensor(new float[] { 0.3f, 0.4f, 0.35f, 0.5f, 0.6f, 0.55f, 0.5f, 0.4f, 0.7f, 0.7f, 0.3f, 0.25f }).reshape(3, 4);
        Tensor[] preds;
        using (bf16 ? Strix.Nn.Autocast.Enable(ScalarType.BFloat16) : null) preds = model.forward(x);
        Assert.Equal(model.Strides.Length, preds.Length);
        Assert.All(preds, p => Assert.Equal(ScalarType.Float32, p.dtype)); // the head's maps come out in fp32 either way
        var (loss, items) = new DetectionLoss(model).Compute(preds, bi, cls, boxes);
        Assert.True(float.IsFinite(loss.item<float>()) && loss.item<float>() > 0);
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            if (!p.requires_grad) continue; // the DFL integral
            Assert.True(p.grad is not null, $"{family}: no gradient for {name}");
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{family}: non-finite gradient in {name}");
        }
        // The attention stage learns too (YOLO11).
        if (family == "yolo11")
            Assert.True(model.named_parameters().First(kv => kv.name == "model.10.m.0.attn.qkv.conv.weight").parameter.grad!.abs().sum().item<float>() > 0);
    }
}
