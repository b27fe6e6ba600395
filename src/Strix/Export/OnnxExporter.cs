using Strix.IO;
using Strix.Runtime;
using System.Globalization;
using Strix.IO.Onnx;
using Strix.Models;
using Strix.Nn;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Export;

/// <summary>
/// Writes a <see cref="DetectionModel"/> as an ONNX detector in Ultralytics' layout: input
/// <c>images</c> [B,3,H,W] (RGB 0–1), output <c>output0</c> [B, 4+nc, anchors] (pixel xywh, class
/// scores), Ultralytics' metadata keys — so tools that load Ultralytics exports load ours. A segmentation
/// model adds its 32 mask coefficients to <c>output0</c> ([B, 4+nc+32, anchors]) and the prototypes as
/// <c>output1</c> [B, 32, H/4, W/4], as Ultralytics' -seg exports.
/// Batch norm is folded on the fly from the module's weights; the caller's model is not changed.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Builds the ONNX model in memory.</summary>
    public static ModelProto Build(DetectionModel model, OnnxExportOptions? options = null)
    {
        var o = options ?? new OnnxExportOptions();
        Validate(model, o);
        using var _ = no_grad();
        using var scope = NewDisposeScope();

        var names = o.Names ?? ModelMetadata.DefaultNames(model.NumClasses);
        var b = new OnnxGraphBuilder(o.Half ? OnnxDataType.Float16 : OnnxDataType.Float, o.Opset, model.Name);
        int nc = model.NumClasses;
        bool classifier = model.ClassifyHead is not null;
        int nm = classifier ? 0 : (model.Head as Segment)?.NumMasks ?? (model.Head as Pose)?.KeypointOutputs ?? (model.Head as OBB)?.NumExtra ?? 0; // extra rows of output0
        bool pose = model.Task is "pose" or "obb"; // one output: its extra rows hold keypoints or the angle
        long anchors = model.Strides.Sum(s => (long)(o.Height / s) * (long)(o.Width / s));
        if (classifier)
        {
            // Ultralytics' -cls export: output0 holds the softmax probabilities [B, nc].
            b.Input("images", o.Dynamic ? new TensorShapeProto(new long[] { -1, 3, -1, -1 }, new[] { "batch", null, "height", "width" })
                : new TensorShapeProto(new long[] { o.Batch, 3, o.Height, o.Width }));
            b.Output("output0", o.Dynamic ? new TensorShapeProto(new long[] { -1, nc }, new[] { "batch", null }) : new TensorShapeProto(new long[] { o.Batch, nc }));
        }
        else if (o.Dynamic)
        {
            b.Input("images", new TensorShapeProto(new long[] { -1, 3, -1, -1 }, new[] { "batch", null, "height", "width" }));
            b.Output("output0", o.Nms ? new TensorShapeProto(new long[] { -1, o.MaxDet, 6 }, new[] { "batch", null, null })
                : new TensorShapeProto(new long[] { -1, 4 + nc + nm, -1 }, new[] { "batch", null, "anchors" }));
            if (nm > 0 && !pose) b.Output("output1", new TensorShapeProto(new long[] { -1, nm, -1, -1 }, new[] { "batch", null, "mask_height", "mask_width" }));
        }
        else
        {
            b.Input("images", new TensorShapeProto(new long[] { o.Batch, 3, o.Height, o.Width }));
            b.Output("output0", new TensorShapeProto(o.Nms ? new long[] { o.Batch, o.MaxDet, 6 } : new long[] { o.Batch, 4 + nc + nm, anchors }));
            if (nm > 0 && !pose) b.Output("output1", new TensorShapeProto(new long[] { o.Batch, nm, o.Height / 4, o.Width / 4 }));
        }

        var outputs = new string[model.Layers.Count];
        string cur = "images";
        (string Output0, string? Output1)? result = null;
        foreach (var layer in model.Layers)
        {
            var p = $"model.{layer.Index}";
            var from = layer.Inputs;
            string Input(int f) => f == -1 ? cur : outputs[f] ?? throw new InvalidOperationException($"layer {layer.Index} reads layer {f}, which has no output");
            switch (layer.Module)
            {
                case Concat c: cur = b.Concat("/" + p, from.Select(Input), c.Dimension); break;
                case Detect d: result = EmitDetect(b, d, from.Select(Input).ToArray(), p, o); break;
                case Classify head: result = (EmitClassify(b, head, Input(from[0]), p), null); break;
                default: cur = EmitModule(b, layer.Module, Input(from[0]), p); break;
            }
            outputs[layer.Index] = cur;
        }
        if (result is not { } r) throw new InvalidOperationException("the model has no head (Detect, Segment or Classify)");
        b.Rename(o.Nms ? OnnxNms.Emit(b, r.Output0, nc, o.MaxDet, o.Conf, o.Iou) : r.Output0, "output0");
        if (r.Output1 is { } protos) b.Rename(protos, "output1");

        var version = ModelMetadata.CurrentStrixVersion;
        var m = new ModelProto
        {
            IrVersion = IrVersionFor(o.Opset),
            ProducerName = "strix",
            ProducerVersion = version,
            Graph = b.Graph,
        };
        m.OpsetImport.Add(new OperatorSetIdProto("", o.Opset));
        void Meta(string k, string v) => m.MetadataProps.Add(new StringStringEntryProto(k, v));
        Meta("description", o.Description ?? $"Strix {model.DisplayName} model");
        Meta("author", "Strix");
        Meta("date", DateTime.Now.ToString("yyyy-MM-ddTHH:mm:ss.ffffff", CultureInfo.InvariantCulture));
        Meta("version", version);
        Meta("stride", model.MaxStride.ToString(CultureInfo.InvariantCulture));
        Meta("task", model.Task);
        Meta("batch", o.Batch.ToString(CultureInfo.InvariantCulture));
        Meta("imgsz", PythonLiteral.IntList(new[] { o.Height, o.Width }));
        Meta("names", PythonLiteral.NamesDict(names));
        if (!classifier && model.Head is Pose ph) Meta("kpt_shape", PythonLiteral.IntList(new[] { ph.NumKeypoints, ph.KeypointDims }));
        if (o.Nms)
        {
            Meta("nms", "True");
            Meta("conf", o.Conf.ToString("R", CultureInfo.InvariantCulture));
            Meta("iou", o.Iou.ToString("R", CultureInfo.InvariantCulture));
            Meta("max_det", o.MaxDet.ToString(CultureInfo.InvariantCulture));
        }
        return m;
    }

    /// <summary>Exports to <paramref name="path"/> atomically; returns the model written.</summary>
    public static ModelProto Export(DetectionModel model, string path, OnnxExportOptions? options = null)
    {
        var m = Build(model, options);
        m.Save(path);
        return m;
    }

    /// <summary>The lowest IR version that can carry <paramref name="opset"/> (newer runtimes read older IRs).</summary>
    public static long IrVersionFor(int opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        _ => 9,
    };

    /// <summary>Throws <see cref="ArgumentException"/> for an opset outside 13–19.</summary>
    public static void ValidateOpset(int opset)
    {
        if (opset < OnnxExportOptions.MinOpset || opset > OnnxExportOptions.MaxOpset)
            throw new ArgumentException($"opset={opset} is not supported: Strix exports ONNX opsets {OnnxExportOptions.MinOpset} to {OnnxExportOptions.MaxOpset} (default {OnnxExportOptions.DefaultOpset})");
    }

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="o"/> cannot be exported for <paramref name="model"/>.</summary>
    public static void Validate(DetectionModel model, OnnxExportOptions o)
    {
        ValidateOpset(o.Opset);
        int s = model.MaxStride;
        if (o.Height <= 0 || o.Width <= 0 || o.Height % s != 0 || o.Width % s != 0)
            throw new ArgumentException($"imgsz={o.Height}x{o.Width} must be positive multiples of the model's stride {s}");
        if (o.Batch < 1) throw new ArgumentException($"batch={o.Batch} must be at least 1");
        if (o.Nms)
        {
            if (model.ClassifyHead is not null) throw new NotSupportedException("nms=true exports detection models; a classifier has no boxes (export it without nms)");
            if (model.Task is "pose" or "obb") throw new NotSupportedException($"nms=true exports detection models; a {model.Task} model keeps NMS outside the graph (export it without nms)");
            if (model.Head is Segment) throw new NotSupportedException("nms=true exports detection models; a segmentation model keeps NMS outside the graph (export it without nms)");
            if (!(o.Conf >= 0 && o.Conf < 1)) throw new ArgumentException($"conf={o.Conf} must be in [0, 1)");
            if (!(o.Iou > 0 && o.Iou <= 1)) throw new ArgumentException($"iou={o.Iou} must be in (0, 1]");
            if (o.MaxDet < 1) throw new ArgumentException($"max_det={o.MaxDet} must be at least 1");
        }
        if (o.Names is not null && o.Names.Count != model.NumClasses)
            throw new ArgumentException($"{o.Names.Count} class names given for a model with {model.NumClasses} classes");
    }

    /// <summary>Conv node from weight/bias tensors and a TorchSharp Conv2d's geometry.</summary>
    static string EmitConvNode(OnnxGraphBuilder b, Conv2d conv, Tensor weight, Tensor? bias, string x, string scope, string paramPrefix)
    {
        if (conv.padding_type is not null) throw new NotSupportedException($"{paramPrefix}: string padding modes cannot be exported");
        var inputs = new List<string> { x, b.Weight(paramPrefix + ".weight", weight.shape, TensorArrays.Floats(weight)) };
        if (bias is not null) inputs.Add(b.Weight(paramPrefix + ".bias", bias.shape, TensorArrays.Floats(bias)));
        var pad = conv.padding ?? new long[conv.kernel_size.Length];
        return b.Node("Conv", scope, inputs.ToArray(),
            AttributeProto.IntList("dilations", conv.dilation),
            AttributeProto.Int("group", conv.groups),
            AttributeProto.IntList("kernel_shape", conv.kernel_size),
            AttributeProto.IntList("pads", pad.Concat(pad).ToArray()),
            AttributeProto.IntList("strides", conv.stride));
    }

    /// <summary>The Classify head: Conv (1280), GlobalAveragePool, Flatten, Gemm (the linear layer), Softmax over classes.</summary>
    static string EmitClassify(OnnxGraphBuilder b, Classify head, string x, string p)
    {
        var h = EmitConv(b, head.conv, x, p + ".conv");
        var pooled = b.Node("GlobalAveragePool", $"/{p}/pool", new[] { h });
        var flat = b.Node("Flatten", $"/{p}", new[] { pooled }, AttributeProto.Int("axis", 1));
        var w = head.linear.weight!;
        var bias = head.linear.bias!;
        var logits = b.Node("Gemm", $"/{p}/linear", new[]
        {
            flat, b.Weight(p + ".linear.weight", w.shape, TensorArrays.Floats(w)), b.Weight(p + ".linear.bias", bias.shape, TensorArrays.Floats(bias)),
        }, AttributeProto.Int("transB", 1));
        return b.Softmax($"/{p}", logits, 1);
    }

    /// <summary>Conv → (BN folded) → SiLU as Conv, Sigmoid, Mul.</summary>
    static string EmitConv(OnnxGraphBuilder b, Conv c, string x, string p)
    {
        string y;
        if (c.bn is null) y = EmitConvNode(b, c.conv, c.conv.weight!, c.conv.bias, x, $"/{p}/conv", p + ".conv");
        else
        {
            var (w, bias) = BatchNormFolding.Fold(c.conv.weight!, c.conv.bias, c.bn);
            y = EmitConvNode(b, c.conv, w, bias, x, $"/{p}/conv", p + ".conv");
            w.Dispose(); bias.Dispose();
        }
        if (!c.HasActivation) return y;
        var s = b.Sigmoid($"/{p}/act", y);
        return b.Mul($"/{p}/act", y, s);
    }

    /// <summary>Any building block, by type; <paramref name="p"/> is its state-dict prefix (node names follow it).</summary>
    static string EmitModule(OnnxGraphBuilder b, TorchSharp.torch.nn.Module m, string x, string p) => m switch
    {
        Conv c => EmitConv(b, c, x, p),
        Conv2d c => EmitConvNode(b, c, c.weight!, c.bias, x, $"/{p}", p),
        C2f c => EmitC2f(b, c, x, p),
        C3 c => EmitC3(b, c, x, p),
        C2 c => EmitC2(b, c, x, p),
        Bottleneck bn => EmitBottleneck(b, bn, x, p),
        SPPF s => EmitSppf(b, s, x, p),
        C2PSA c => EmitC2Psa(b, c, x, p),
        PSABlock pb => EmitPsaBlock(b, pb, x, p),
        Attention a => EmitAttention(b, a, x, p),
        Upsample u => EmitUpsample(b, u, x, p),
        Sequential seq => EmitSequential(b, seq, x, p),
        _ => throw new NotSupportedException($"{p}: {m.GetType().Name} cannot be exported to ONNX"),
    };

    static string EmitBottleneck(OnnxGraphBuilder b, Bottleneck bn, string x, string p)
    {
        var t = EmitConv(b, bn.cv2, EmitConv(b, bn.cv1, x, p + ".cv1"), p + ".cv2");
        return bn.HasShortcut ? b.Add($"/{p}", x, t) : t;
    }

    /// <summary>C2f and C3k2: split, each block on the last piece, concatenate all, fuse.</summary>
    static string EmitC2f(OnnxGraphBuilder b, C2f c, string x, string p)
    {
        var h = EmitConv(b, c.cv1, x, p + ".cv1");
        var ys = b.Split($"/{p}", h, 1, c.Hidden, c.Hidden).ToList();
        for (int i = 0; i < c.m.Count; i++) ys.Add(EmitModule(b, c.m[i], ys[^1], $"{p}.m.{i}"));
        return EmitConv(b, c.cv2, b.Concat($"/{p}", ys, 1), p + ".cv2");
    }

    /// <summary>C3 and C3k: blocks after cv1, cv2 as the bypass, cv3 fuses.</summary>
    static string EmitC3(OnnxGraphBuilder b, C3 c, string x, string p)
    {
        var y = EmitConv(b, c.cv1, x, p + ".cv1");
        for (int i = 0; i < c.m.Count; i++) y = EmitModule(b, c.m[i], y, $"{p}.m.{i}");
        return EmitConv(b, c.cv3, b.Concat($"/{p}", new[] { y, EmitConv(b, c.cv2, x, p + ".cv2") }, 1), p + ".cv3");
    }

    static string EmitC2(OnnxGraphBuilder b, C2 c, string x, string p)
    {
        var h = EmitConv(b, c.cv1, x, p + ".cv1");
        int half = c.cv1.OutChannels / 2;
        var parts = b.Split($"/{p}", h, 1, half, half);
        var a = parts[0];
        for (int i = 0; i < c.m.Count; i++) a = EmitModule(b, c.m[i], a, $"{p}.m.{i}");
        return EmitConv(b, c.cv2, b.Concat($"/{p}", new[] { a, parts[1] }, 1), p + ".cv2");
    }

    static string EmitC2Psa(OnnxGraphBuilder b, C2PSA c, string x, string p)
    {
        var parts = b.Split($"/{p}", EmitConv(b, c.cv1, x, p + ".cv1"), 1, c.Hidden, c.Hidden);
        var y = parts[1];
        for (int i = 0; i < c.m.Count; i++) y = EmitModule(b, c.m[i], y, $"{p}.m.{i}");
        return EmitConv(b, c.cv2, b.Concat($"/{p}", new[] { parts[0], y }, 1), p + ".cv2");
    }

    static string EmitPsaBlock(OnnxGraphBuilder b, PSABlock pb, string x, string p)
    {
        var a = EmitAttention(b, pb.attn, x, p + ".attn");
        var y = pb.HasShortcut ? b.Add($"/{p}", x, a) : a;
        var f = EmitConv(b, pb.FfnProject, EmitConv(b, pb.FfnExpand, y, p + ".ffn.0"), p + ".ffn.1");
        return pb.HasShortcut ? b.Add($"/{p}", y, f) : f;
    }

    /// <summary>Attention over H·W positions: Reshape, Split, MatMul, Softmax, MatMul, Reshape back via the input's Shape.</summary>
    static string EmitAttention(OnnxGraphBuilder b, Attention a, string x, string p)
    {
        var scope = $"/{p}";
        var qkv = EmitConv(b, a.qkv, x, p + ".qkv");
        var heads = b.Reshape(scope, qkv, 0, a.NumHeads, 2 * a.KeyDim + a.HeadDim, -1);
        var qkvParts = b.Split(scope, heads, 2, a.KeyDim, a.KeyDim, a.HeadDim);
        string q = qkvParts[0], k = qkvParts[1], v = qkvParts[2];
        var logits = b.Node("MatMul", scope, new[] { b.Transpose(scope, q, 0, 1, 3, 2), k });
        var scale = b.Weight($"{scope}/scale", Array.Empty<long>(), new[] { (float)a.ScaleFactor });
        var attn = b.Softmax(scope, b.Mul(scope, logits, scale), 3);
        var mixed = b.Node("MatMul", scope, new[] { v, b.Transpose(scope, attn, 0, 1, 3, 2) });
        var shape = b.Node("Shape", scope, new[] { x });
        var mixedMap = b.Node("Reshape", scope, new[] { mixed, shape });
        var pe = EmitConv(b, a.pe, b.Node("Reshape", scope, new[] { v, shape }), p + ".pe");
        return EmitConv(b, a.proj, b.Add(scope, mixedMap, pe), p + ".proj");
    }

    static string EmitSppf(OnnxGraphBuilder b, SPPF s, string x, string p)
    {
        var y = new List<string> { EmitConv(b, s.cv1, x, p + ".cv1") };
        var mp = s.m;
        if (mp.ceil_mode || (mp.dilation is { } dil && dil.Any(d => d != 1)))
            throw new NotSupportedException($"{p}: only plain max pooling can be exported");
        long[] k = mp.kernel_size, st = mp.stride ?? mp.kernel_size, pad = mp.padding ?? new long[] { 0, 0 };
        for (int i = 0; i < 3; i++)
            y.Add(b.Node("MaxPool", $"/{p}/m", new[] { y[^1] },
                AttributeProto.Int("ceil_mode", 0),
                AttributeProto.IntList("kernel_shape", k),
                AttributeProto.IntList("pads", pad.Concat(pad).ToArray()),
                AttributeProto.IntList("strides", st)));
        return EmitConv(b, s.cv2, b.Concat($"/{p}", y, 1), p + ".cv2");
    }

    static string EmitUpsample(OnnxGraphBuilder b, Upsample u, string x, string p)
    {
        if (u.mode != UpsampleMode.Nearest) throw new NotSupportedException($"{p}: only nearest upsampling can be exported (got {u.mode})");
        var f = u.scale_factor.ToArray();
        if (f.Length == 0) throw new NotSupportedException($"{p}: upsampling to a fixed size cannot be exported; use a scale factor");
        float fh = (float)f[0], fw = (float)f[^1];
        var scales = b.Float32($"/{p}/scales", new long[] { 4 }, new[] { 1f, 1f, fh, fw });
        // PyTorch's 'nearest' picks floor(out · in/out): asymmetric coordinates, floor rounding.
        return b.Node("Resize", $"/{p}", new[] { x, "", scales },
            AttributeProto.String("coordinate_transformation_mode", "asymmetric"),
            AttributeProto.Float("cubic_coeff_a", -0.75f),
            AttributeProto.String("mode", "nearest"),
            AttributeProto.String("nearest_mode", "floor"));
    }

    static string EmitSequential(OnnxGraphBuilder b, Sequential seq, string x, string p)
    {
        int j = 0;
        foreach (var m in seq.children()) x = EmitModule(b, m, x, $"{p}.{j++}");
        return x;
    }

    /// <summary>The head: output0 (boxes, scores and, for Segment, mask coefficients) and Segment's prototypes.</summary>
    static (string Output0, string? Output1) EmitDetect(OnnxGraphBuilder b, Detect d, string[] xs, string p, OnnxExportOptions o)
    {
        var (det, anchorPoints, strides) = EmitBoxesAndScores(b, d, xs, p, o);
        if (d is OBB obb) return (EmitObb(b, obb, xs, p, o), null);
        if (d is Pose pose) return (b.Concat($"/{p}", new[] { det, EmitKeypoints(b, pose, xs, anchorPoints, strides, p) }, 1), null);
        if (d is not Segment seg) return (det, null);
        var coefs = new string[seg.NumLevels];
        for (int i = 0; i < seg.NumLevels; i++)
            coefs[i] = b.Reshape($"/{p}", EmitSequential(b, seg.cv4[i], xs[i], $"{p}.cv4.{i}"), 0, seg.NumMasks, -1);
        var output0 = b.Concat($"/{p}", new[] { det, b.Concat($"/{p}", coefs, 2) }, 1);
        return (output0, EmitProto(b, seg.proto, xs[0], $"{p}.proto"));
    }

    /// <summary>Proto: Conv, a 2×2 stride-2 ConvTranspose, Conv, Conv.</summary>
    static string EmitProto(OnnxGraphBuilder b, Proto pr, string x, string p)
    {
        var h = EmitConv(b, pr.cv1, x, p + ".cv1");
        var u = pr.upsample;
        var pad = u.padding ?? new long[u.kernel_size.Length];
        var inputs = new List<string> { h, b.Weight(p + ".upsample.weight", u.weight!.shape, TensorArrays.Floats(u.weight!)) };
        if (u.bias is { } bias) inputs.Add(b.Weight(p + ".upsample.bias", bias.shape, TensorArrays.Floats(bias)));
        var up = b.Node("ConvTranspose", $"/{p}/upsample", inputs.ToArray(),
            AttributeProto.IntList("dilations", u.dilation),
            AttributeProto.Int("group", u.groups),
            AttributeProto.IntList("kernel_shape", u.kernel_size),
            AttributeProto.IntList("output_padding", u.output_padding),
            AttributeProto.IntList("pads", pad.Concat(pad).ToArray()),
            AttributeProto.IntList("strides", u.stride));
        return EmitConv(b, pr.cv3, EmitConv(b, pr.cv2, up, p + ".cv2"), p + ".cv3");
    }

    /// <summary>
    /// A pose head's keypoints [B, K·D, A] in pixels: the cv4 maps flattened, then x = (2·raw + anchor − ½)·stride (and y),
    /// visibility through a sigmoid — Pose.DecodeKeypoints' arithmetic.
    /// </summary>
    static string EmitKeypoints(OnnxGraphBuilder b, Pose pose, string[] xs, string anchorPoints, string strides, string p)
    {
        int k = pose.NumKeypoints, dims = pose.KeypointDims, nk = pose.KeypointOutputs;
        var levels = new string[pose.NumLevels];
        for (int i = 0; i < pose.NumLevels; i++)
            levels[i] = b.Reshape($"/{p}", EmitSequential(b, pose.cv4[i], xs[i], $"{p}.cv4.{i}"), 0, nk, -1);
        var raw = b.Reshape($"/{p}/kpts", b.Concat($"/{p}", levels, 2), 0, k, dims, -1); // [B, K, D, A]
        var parts = dims == 3 ? b.Split($"/{p}/kpts", raw, 2, 2, 1) : new[] { raw };
        var two = b.Weight($"/{p}/kpts/two", Array.Empty<long>(), new[] { 2f });
        var half = b.Weight($"/{p}/kpts/half", Array.Empty<long>(), new[] { 0.5f });
        var cell = b.Sub($"/{p}/kpts", b.Reshape($"/{p}/kpts", anchorPoints, 1, 1, 2, -1), half);
        var xy = b.Mul($"/{p}/kpts", b.Add($"/{p}/kpts", b.Mul($"/{p}/kpts", parts[0], two), cell), b.Reshape($"/{p}/kpts", strides, 1, 1, 1, -1));
        var kpts = dims == 3 ? b.Concat($"/{p}/kpts", new[] { xy, b.Sigmoid($"/{p}/kpts", parts[1]) }, 2) : xy;
        return b.Reshape($"/{p}/kpts", kpts, 0, nk, -1);
    }

    static (string Detections, string AnchorPoints, string Strides) EmitBoxesAndScores(OnnxGraphBuilder b, Detect d, string[] xs, string p, OnnxExportOptions o)
    {
        var (dist, scores, anchorPoints, strides) = EmitDistances(b, d, xs, p, o);
        // dist2bbox (xywh), scaled by stride: the same arithmetic as Detect.Decode.
        var lr = b.Split($"/{p}", dist, 1, 2, 2);
        var x1y1 = b.Sub($"/{p}", anchorPoints, lr[0]);
        var x2y2 = b.Add($"/{p}", anchorPoints, lr[1]);
        var two = b.Weight($"/{p}/two", Array.Empty<long>(), new[] { 2f });
        var cxy = b.Div($"/{p}", b.Add($"/{p}", x1y1, x2y2), two);
        var wh = b.Sub($"/{p}", x2y2, x1y1);
        var boxes = b.Mul($"/{p}", b.Concat($"/{p}", new[] { cxy, wh }, 1), strides);
        return (b.Concat($"/{p}", new[] { boxes, scores }, 1), anchorPoints, strides);
    }

    /// <summary>The head's box distances after DFL [B, 4, A] (grid units), class probabilities [B, nc, A], anchor points [1, 2, A] and strides [1, A].</summary>
    static (string Dist, string Scores, string AnchorPoints, string Strides) EmitDistances(OnnxGraphBuilder b, Detect d, string[] xs, string p, OnnxExportOptions o)
    {
        int nc = d.NumClasses, reg = d.RegMax, no = d.NumOutputs;
        var levels = new string[d.NumLevels];
        for (int i = 0; i < d.NumLevels; i++)
        {
            var box = EmitSequential(b, d.cv2[i], xs[i], $"{p}.cv2.{i}");
            var cls = EmitSequential(b, d.cv3[i], xs[i], $"{p}.cv3.{i}");
            levels[i] = b.Concat($"/{p}", new[] { box, cls }, 1);
        }
        var flat = b.Concat($"/{p}", levels.Select(l => b.Reshape($"/{p}", l, 0, no, -1)), 2);
        var parts = b.Split($"/{p}", flat, 1, 4 * reg, nc);

        // DFL: softmax over each side's reg_max bins, then the expectation as a fixed 1×1 conv.
        var dflScope = $"/{p}/dfl";
        var r = b.Reshape(dflScope, parts[0], 0, 4, reg, -1);
        var t = b.Transpose(dflScope, r, 0, 2, 1, 3);
        var sm = b.Softmax(dflScope, t, 1);
        var dc = EmitConvNode(b, d.dfl.conv, d.dfl.conv.weight!, null, sm, $"{dflScope}/conv", $"{p}.dfl.conv");
        var dist = b.Reshape(dflScope, dc, 0, 4, -1);
        var (anchorPoints, strides) = o.Dynamic ? DynamicAnchors(b, d, levels, p) : StaticAnchors(b, d, o, p);
        return (dist, b.Sigmoid($"/{p}", parts[1]), anchorPoints, strides);
    }

    /// <summary>
    /// An OBB head's output [B, 4 + nc + 1, A]: the angle (sigmoid(raw) − ¼)·π from cv4, then dist2rbox — the centre moved by
    /// the half-difference of the distances rotated by the angle, the size their sum — scaled by the stride (OBB.DecodeObb).
    /// </summary>
    static string EmitObb(OnnxGraphBuilder b, OBB obb, string[] xs, string p, OnnxExportOptions o)
    {
        var (dist, scores, anchorPoints, strides) = EmitDistances(b, obb, xs, p, o);
        var raw = b.Concat($"/{p}", Enumerable.Range(0, obb.NumLevels)
            .Select(i => b.Reshape($"/{p}", EmitSequential(b, obb.cv4[i], xs[i], $"{p}.cv4.{i}"), 0, obb.NumExtra, -1)), 2);
        var scope = $"/{p}/angle";
        var quarter = b.Weight($"{scope}/quarter", Array.Empty<long>(), new[] { 0.25f });
        var pi = b.Weight($"{scope}/pi", Array.Empty<long>(), new[] { MathF.PI });
        var angle = b.Mul(scope, b.Sub(scope, b.Sigmoid(scope, raw), quarter), pi);
        var lr = b.Split($"/{p}/rbox", dist, 1, 2, 2);
        var two = b.Weight($"/{p}/rbox/two", Array.Empty<long>(), new[] { 2f });
        var half = b.Div($"/{p}/rbox", b.Sub($"/{p}/rbox", lr[1], lr[0]), two);
        var xyf = b.Split($"/{p}/rbox", half, 1, 1, 1);
        var cos = b.Node("Cos", $"/{p}/rbox", new[] { angle });
        var sin = b.Node("Sin", $"/{p}/rbox", new[] { angle });
        var x = b.Sub($"/{p}/rbox", b.Mul($"/{p}/rbox", xyf[0], cos), b.Mul($"/{p}/rbox", xyf[1], sin));
        var y = b.Add($"/{p}/rbox", b.Mul($"/{p}/rbox", xyf[0], sin), b.Mul($"/{p}/rbox", xyf[1], cos));
        var xy = b.Add($"/{p}/rbox", b.Concat($"/{p}/rbox", new[] { x, y }, 1), anchorPoints);
        var wh = b.Add($"/{p}/rbox", lr[0], lr[1]);
        var boxes = b.Mul($"/{p}/rbox", b.Concat($"/{p}/rbox", new[] { xy, wh }, 1), strides);
        return b.Concat($"/{p}", new[] { boxes, scores, angle }, 1);
    }

    /// <summary>Anchor points [1,2,A] and strides [1,A] as constants for a fixed input size.</summary>
    static (string Points, string Strides) StaticAnchors(OnnxGraphBuilder b, Detect d, OnnxExportOptions o, string p)
    {
        using var scope = NewDisposeScope();
        var feats = d.Strides.Select(s => zeros(1, 1, (long)(o.Height / s), (long)(o.Width / s))).ToArray();
        var (pts, sts) = Anchors.Make(feats, d.Strides, 0.5);
        long a = pts.shape[0];
        var points = b.Weight($"/{p}/anchors", new long[] { 1, 2, a }, TensorArrays.Floats(pts.transpose(0, 1)));
        var strides = b.Weight($"/{p}/strides", new long[] { 1, a }, TensorArrays.Floats(sts.transpose(0, 1)));
        return (points, strides);
    }

    /// <summary>
    /// Anchor points and strides computed in the graph from each level's feature-map shape, so a
    /// dynamic export works at any input size: Shape → Range → (+0.5) → Expand to the grid.
    /// </summary>
    static (string Points, string Strides) DynamicAnchors(OnnxGraphBuilder b, Detect d, string[] levels, string p)
    {
        var scope = $"/{p}/anchors";
        var zero = b.Int64(new long[] { 0 }, scalar: true);
        var one = b.Int64(new long[] { 1 }, scalar: true);
        var offset = b.Weight($"{scope}/offset", Array.Empty<long>(), new[] { 0.5f });
        var pts = new List<string>();
        var sts = new List<string>();
        for (int i = 0; i < levels.Length; i++)
        {
            var shape = b.Node("Shape", scope, new[] { levels[i] });
            var hw = b.Node("Slice", scope, new[] { shape, b.Int64(new long[] { 2 }), b.Int64(new long[] { 4 }), b.Int64(new long[] { 0 }) });
            string Coords(long axis)
            {
                var n = b.Node("Gather", scope, new[] { shape, b.Int64(new[] { axis }, scalar: true) }, AttributeProto.Int("axis", 0));
                var range = b.Node("Range", scope, new[] { zero, n, one });
                var cast = b.Node("Cast", scope, new[] { range }, AttributeProto.Int("to", (long)b.FloatType));
                return b.Add(scope, cast, offset);
            }
            var sy = Coords(2);
            var sx = Coords(3);
            var gx = b.Node("Expand", scope, new[] { b.Reshape(scope, sx, 1, -1), hw });
            var gy = b.Node("Expand", scope, new[] { b.Reshape(scope, sy, -1, 1), hw });
            pts.Add(b.Concat(scope, new[] { b.Reshape(scope, gx, 1, 1, -1), b.Reshape(scope, gy, 1, 1, -1) }, 1));
            var flatShape = b.Node("Shape", scope, new[] { b.Reshape(scope, gx, 1, -1) });
            var value = b.FloatType == OnnxDataType.Float16
                ? TensorProto.FromFloatsAsHalf("value", new long[] { 1 }, new[] { d.Strides[i] })
                : TensorProto.FromFloats("value", new long[] { 1 }, new[] { d.Strides[i] });
            sts.Add(b.Node("ConstantOfShape", scope, new[] { flatShape }, AttributeProto.Tensor("value", value)));
        }
        return (b.Concat(scope, pts, 2), b.Concat(scope, sts, 1));
    }
}
