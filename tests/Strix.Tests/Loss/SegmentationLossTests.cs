using Strix.Data;
using Strix.Loss;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

public class SegmentationLossTests
{
    /// <summary>One 64×64 image, two boxes with their masks in both layouts (index plane and per-object planes), at 1/4.</summary>
    static (Tensor Idx, Tensor Cls, Tensor Boxes, Tensor Overlap, Tensor Planes) Targets()
    {
        var inst = new Instances(new float[] { 0, 1 }, new float[] { 8, 8, 40, 40, 44, 20, 60, 56 },
            new[] { new float[] { 8, 8, 40, 8, 40, 40, 8, 40 }, new float[] { 44, 20, 60, 20, 60, 56, 44, 56 } });
        var (ov, order) = InstanceMasks.Rasterize(inst, 64, 64, 4, overlap: true);
        Assert.Equal(new[] { 0, 1 }, order); // 32×32 before 16×36: the target order is kept (the objects do not overlap, so both layouts hold the same masks)
        var (pl, _) = InstanceMasks.Rasterize(inst, 64, 64, 4, overlap: false);
        var boxes = tensor(inst.ToNormalizedXywh(64, 64), new long[] { 2, 4 });
        return (tensor(new float[] { 0, 0 }), tensor(new float[] { 0, 1 }), boxes,
            tensor(ov.Index!.Select(v => (int)v).ToArray(), new long[] { 1, 16, 16 }), tensor(pl.Binary!, new long[] { 2, 16, 16 }));
    }

    [Fact]
    public void Zero_prototypes_give_ln2_per_object_whatever_its_box()
    {
        // Logits 0 everywhere: BCE is ln 2 per pixel; cropped to the box, averaged over the plane and divided by the box's
        // share of the plane it is exactly ln 2 for every foreground anchor.
        using var model = DetectionModel.Create("yolov8n-seg", 2);
        var loss = new SegmentationLoss(model);
        var (idx, cls, boxes, overlap, _) = Targets();
        using var x = rand(1, 3, 64, 64);
        var outs = model.forward(x);
        using (no_grad()) outs[^1].zero_();
        var (l, items) = loss.Compute(outs, idx, cls, boxes, overlap);
        Assert.Equal(Math.Log(2) * 7.5, items[1].item<float>(), 3);
        foreach (var t in outs) t.Dispose();
        l.Dispose(); items.Dispose();
    }

    [Fact]
    public void Both_mask_layouts_give_the_same_loss_and_the_mask_branches_get_gradients()
    {
        using var model = DetectionModel.Create("yolov8n-seg", 2);
        var (idx, cls, boxes, overlap, planes) = Targets();
        using var x = rand(1, 3, 64, 64);
        var outs = model.forward(x);
        var (a, ia) = new SegmentationLoss(model, overlap: true).Compute(outs, idx, cls, boxes, overlap);
        var (b, ib) = new SegmentationLoss(model, overlap: false).Compute(outs, idx, cls, boxes, planes);
        Assert.Equal(ia[1].item<float>(), ib[1].item<float>(), 5);
        Assert.True(ia[1].item<float>() > 0);
        a.backward();
        var head = (Strix.Nn.Segment)model.Head;
        Assert.True(head.proto.cv3.conv.weight!.grad!.abs().sum().item<float>() > 0);
        Assert.True(((TorchSharp.Modules.Conv2d)head.cv4[0][2]).weight!.grad!.abs().sum().item<float>() > 0);
        foreach (var t in outs) t.Dispose();
        a.Dispose(); b.Dispose(); ia.Dispose(); ib.Dispose();
    }

    [Fact]
    public void A_few_steps_on_one_batch_lower_the_mask_loss()
    {
        manual_seed(0);
        using var model = DetectionModel.Create("yolov8n-seg", 2);
        var (idx, cls, boxes, overlap, _) = Targets();
        var loss = new SegmentationLoss(model);
        using var opt = optim.Adam(model.parameters(), lr: 0.005);
        using var x = rand(1, 3, 64, 64);
        float first = 0, last = 0;
        for (int step = 0; step < 25; step++)
        {
            opt.zero_grad();
            var outs = model.forward(x);
            var (l, items) = loss.Compute(outs, idx, cls, boxes, overlap);
            l.backward();
            opt.step();
            if (step == 0) first = items[1].item<float>();
            last = items[1].item<float>();
            foreach (var t in outs) t.Dispose();
            l.Dispose(); items.Dispose();
        }
        Assert.True(last < 0.6 * first, $"seg loss {first:0.000} → {last:0.000}");
    }
}
