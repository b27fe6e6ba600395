using Strix.IO.Onnx;

namespace Strix.Export;

/// <summary>
/// NMS appended to a detection graph (<c>nms=true</c>): from <c>output0</c> [B, 4+nc, anchors] (pixel xywh, class scores)
/// to [B, max_det, 6] rows of x1 y1 x2 y2 score class, each image's detections by falling score, zero rows after them
/// (Ultralytics' <c>nms</c> export layout). As Strix's own prediction NMS: each anchor keeps only its best class, a box
/// must score above conf, and boxes of one class that overlap by more than iou are suppressed (ONNX
/// NonMaxSuppression runs per class); then each image's best max_det are kept. All ONNX operators of opset 13 on.
/// </summary>
internal static class OnnxNms
{
    public static string Emit(OnnxGraphBuilder b, string pred, int nc, int maxDet, float conf, float iou)
    {
        const string S = "/nms";
        var f = b.FloatType == OnnxDataType.Float16 ? b.Node("Cast", S, new[] { pred }, AttributeProto.Int("to", (long)OnnxDataType.Float)) : pred;
        string Slice(string x, long start, long end, long axis) => b.Node("Slice", S, new[] { x, b.Int64(new[] { start }), b.Int64(new[] { end }), b.Int64(new[] { axis }) });
        string Unsq(string x, long axis) => b.Node("Unsqueeze", S, new[] { x, b.Int64(new[] { axis }) });
        string Gather(string x, string idx, long axis = 0) => b.Node("Gather", S, new[] { x, idx }, AttributeProto.Int("axis", axis));
        string Cast(string x, OnnxDataType t) => b.Node("Cast", S, new[] { x }, AttributeProto.Int("to", (long)t));
        string Scalar(long v) => b.Int64(new[] { v }, scalar: true);

        var boxes = b.Transpose(S, Slice(f, 0, 4, 1), 0, 2, 1);                            // [B, A, 4] xywh
        var scores = Slice(f, 4, 4 + nc, 1);                                               // [B, nc, A]
        // Single label: a class's score counts only where it is the anchor's best.
        var best = b.Opset >= 18
            ? b.Node("ReduceMax", S, new[] { scores, b.Int64(new[] { 1L }) }, AttributeProto.Int("keepdims", 1))
            : b.Node("ReduceMax", S, new[] { scores }, AttributeProto.IntList("axes", 1), AttributeProto.Int("keepdims", 1));
        var single = b.Mul(S, scores, Cast(b.Node("Equal", S, new[] { scores, best }), OnnxDataType.Float));
        var selected = b.Node("NonMaxSuppression", S, new[]
        {
            boxes, single, b.Int64(new[] { (long)maxDet }),
            b.Float32("nms.iou_threshold", new long[] { 1 }, new[] { iou }),
            b.Float32("nms.score_threshold", new long[] { 1 }, new[] { conf }),
        }, AttributeProto.Int("center_point_box", 1));                                    // [K, 3] image, class, anchor

        var img = Gather(selected, Scalar(0), 1);
        var cls = Gather(selected, Scalar(1), 1);
        var anchor = Gather(selected, Scalar(2), 1);
        var score = b.Node("GatherND", S, new[] { single, selected });                   // [K]
        var box = b.Node("GatherND", S, new[] { boxes, b.Concat(S, new[] { Unsq(img, 1), Unsq(anchor, 1) }, 1) }); // [K, 4]
        var xy = Slice(box, 0, 2, 1);
        var halfWh = b.Mul(S, Slice(box, 2, 4, 1), b.Float32("nms.half", new long[] { 1 }, new[] { 0.5f }));
        var rows = b.Concat(S, new[] { b.Sub(S, xy, halfWh), b.Add(S, xy, halfWh), Unsq(score, 1), Unsq(Cast(cls, OnnxDataType.Float), 1) }, 1);

        // Order by image, then falling score: the key image·4 − score (scores are in (conf, 1]).
        var key = b.Sub(S, b.Mul(S, Cast(img, OnnxDataType.Float), b.Float32("nms.four", new long[] { 1 }, new[] { 4f })), score);
        var count = b.Node("Shape", S, new[] { key });                                     // [1] = K
        var order = b.NodeMulti("TopK", S, new[] { b.Node("Neg", S, new[] { key }), count }, 2,
            AttributeProto.Int("axis", 0), AttributeProto.Int("largest", 1), AttributeProto.Int("sorted", 1))[1];
        var imgSorted = Gather(img, order);
        var rowsSorted = Gather(rows, order);

        // Rank within the image: position − the number of detections of earlier images.
        var batch = Slice(b.Node("Shape", S, new[] { f }), 0, 1, 0);                       // [1] = B
        var batchScalar = b.Node("Squeeze", S, new[] { batch, b.Int64(new[] { 0L }) });
        var images = b.Node("Range", S, new[] { Scalar(0), batchScalar, Scalar(1) });
        var perImage = b.Node("ReduceSum", S, new[] { Cast(b.Node("Equal", S, new[] { Unsq(imgSorted, 1), Unsq(images, 0) }), OnnxDataType.Int64), b.Int64(new[] { 0L }) },
            AttributeProto.Int("keepdims", 0));                                            // [B]
        var first = b.Node("CumSum", S, new[] { perImage, Scalar(0) }, AttributeProto.Int("exclusive", 1));
        var position = b.Node("Range", S, new[] { Scalar(0), b.Node("Squeeze", S, new[] { count, b.Int64(new[] { 0L }) }), Scalar(1) });
        var rank = b.Sub(S, position, Gather(first, imgSorted));

        var kept = b.Reshape(S, b.Node("NonZero", S, new[] { b.Node("Less", S, new[] { rank, Scalar(maxDet) }) }), -1);
        var at = b.Concat(S, new[] { Unsq(Gather(imgSorted, kept), 1), Unsq(Gather(rank, kept), 1) }, 1);   // [K', 2]
        var zero = TensorProto.FromFloats("", new long[] { 1 }, new[] { 0f });
        var empty = b.Node("ConstantOfShape", S, new[] { b.Concat(S, new[] { batch, b.Int64(new[] { (long)maxDet, 6L }) }, 0) }, AttributeProto.Tensor("value", zero));
        var output = b.Node("ScatterND", S, new[] { empty, at, Gather(rowsSorted, kept) });
        return b.FloatType == OnnxDataType.Float16 ? Cast(output, OnnxDataType.Float16) : output;
    }
}
