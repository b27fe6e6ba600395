using Strix.Data;
using Strix.Loss;
using Strix.Models;
using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tests.Runtime;

public class MemoryFormatTests
{
    [Fact]
    public void Channels_last_keeps_shape_and_values_and_stores_channels_innermost()
    {
        var x = arange(2 * 3 * 4 * 5, ScalarType.Float32).reshape(2, 3, 4, 5);
        Assert.False(MemoryFormat.IsChannelsLast(x));
        var y = MemoryFormat.ToChannelsLast(x);
        Assert.True(MemoryFormat.IsChannelsLast(y));
        Assert.Equal(x.shape, y.shape);
        Assert.Equal(new long[] { 60, 1, 15, 3 }, y.stride());
        Assert.True(x.eq(y).all().item<bool>());
        // Already channels-last, or not 4-D: the same data back.
        var again = MemoryFormat.ToChannelsLast(y);
        Assert.Equal(y.stride(), again.stride());
        Assert.False(MemoryFormat.IsChannelsLast(arange(6).reshape(2, 3)));
        Assert.Equal(new long[] { 3, 1 }, MemoryFormat.ToChannelsLast(arange(6).reshape(2, 3)).stride());
    }

    [Fact]
    public void Batch_images_convert_to_float_channels_last_in_one_pass_with_the_same_values()
    {
        var images = randint(0, 256, new long[] { 2, 3, 8, 6 }, dtype: ScalarType.Byte);
        using var batch = new Batch { Images = images, BatchIdx = zeros(0), Cls = zeros(0), Bboxes = zeros(0, 4), Count = 2 };
        var plain = batch.FloatImages(CPU);
        var cl = batch.FloatImages(CPU, channelsLast: true);
        Assert.True(plain.is_contiguous());
        Assert.True(MemoryFormat.IsChannelsLast(cl));
        Assert.True(plain.eq(cl).all().item<bool>());
        Assert.InRange(cl.max().item<float>(), 0f, 1f);
    }

    [Theory]
    [InlineData("yolov8n")]
    [InlineData("yolo11n")] // depth-wise convs and attention in NHWC
    public void A_detector_gives_the_same_outputs_loss_and_gradients_for_channels_last_input(string name)
    {
        manual_seed(5);
        using var model = DetectionModel.Create(name, 3);
        model.train();
        var loss = new DetectionLoss(model);
        var x = rand(2, 3, 64, 64);
        var batchIdx = tensor(new float[] { 0, 0, 1 });
        var cls = tensor(new float[] { 0, 2, 1 });
        var boxes = tensor(new float[] { 0.3f, 0.3f, 0.2f, 0.3f, 0.6f, 0.7f, 0.4f, 0.2f, 0.5f, 0.5f, 0.5f, 0.5f }, new long[] { 3, 4 });

        (Tensor[] Preds, float Loss, Dictionary<string, Tensor> Grads) Run(Tensor input)
        {
            // The same BN running statistics for both runs: start each from a copy of the initial state.
            var preds = model.forward(input);
            var (l, _) = loss.Compute(preds, batchIdx, cls, boxes);
            model.zero_grad();
            l.backward();
            var grads = model.named_parameters().Where(p => p.parameter.grad is not null)
                .ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
            return (preds.Select(p => p.detach().contiguous()).ToArray(), l.item<float>(), grads);
        }
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var a = Run(x);
        using (no_grad()) foreach (var (k, v) in model.state_dict()) v.copy_(state[k]);
        var cl = MemoryFormat.ToChannelsLast(x);
        var b = Run(cl);

        Assert.True(MemoryFormat.IsChannelsLast(model.forward(cl)[0].detach()), "the layout should flow through the network");
        for (int i = 0; i < a.Preds.Length; i++)
            Assert.True(a.Preds[i].allclose(b.Preds[i], rtol: 1e-4, atol: 1e-4), $"level {i} differs by {(a.Preds[i] - b.Preds[i]).abs().max().item<float>()}");
        Assert.True(Math.Abs(a.Loss - b.Loss) <= 1e-4 * Math.Abs(a.Loss), $"loss {a.Loss} vs {b.Loss}");
        Assert.Equal(a.Grads.Keys.OrderBy(k => k), b.Grads.Keys.OrderBy(k => k));
        foreach (var (k, g) in a.Grads)
        {
            double scale = Math.Max(1e-3, g.abs().max().item<float>());
            double diff = (g - b.Grads[k]).abs().max().item<float>();
            Assert.True(diff <= 2e-3 * scale, $"gradient of {k} differs by {diff} (max {scale})");
        }
    }
}
