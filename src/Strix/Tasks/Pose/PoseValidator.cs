using Strix.Eval;
using Strix.Loss;
using Strix.Models;
using Strix.Runtime;
using Strix.Tasks.Detect;
using static TorchSharp.torch;

namespace Strix.Tasks.Pose;

/// <summary>
/// Validates a pose model: the detection validator's boxes (the same NMS, carrying each detection's keypoints) and
/// beside them the keypoints, matched by OKS (<see cref="KeypointOks"/>, COCO sigmas for 17 points, uniform otherwise)
/// under the box rule over the ten thresholds — Ultralytics' <c>(P)</c> metrics. Predicted and target keypoints are
/// both taken to the original image (the letterbox undone) before they are compared.
/// </summary>
public sealed class PoseValidator(IReadOnlyList<string> names, int[] kptShape, ValidatorOptions? options = null) : DetectionValidator(names, options)
{
    DetectionMetrics? _pose;
    readonly float[] _sigmas = PoseLoss.Sigmas(kptShape[0]);

    /// <summary>[K, D].</summary>
    public int[] KptShape { get; } = kptShape;

    /// <summary>The running keypoint statistics (after <see cref="Begin"/>).</summary>
    public DetectionMetrics PoseMetrics => _pose ?? throw new InvalidOperationException("call Begin() first");

    public override void Begin()
    {
        base.Begin();
        _pose = new DetectionMetrics(MetricNames, "P");
    }

    protected override string Task => "pose";
    protected override bool EvaluatorWritesJson => false;
    protected override IReadOnlyList<DetectionMetrics> ExtraMetrics => new[] { PoseMetrics };
    protected override bool CarriesExtraRows => true;

    protected override void CheckModel(DetectionModel model)
    {
        if (model.Head is not Nn.Pose)
            throw new NotSupportedException($"{model.Name} is a {model.Task} model; pose validation needs a pose model (e.g. yolov8n-pose)");
    }

    protected override (Tensor Predictions, Tensor? Extra) Decode(DetectionModel model, Tensor[] raw) =>
        (((Nn.Pose)model.Head).DecodePose(raw), null);

    protected override void OnImage(in ValidationImage image)
    {
        int k = KptShape[0], d = KptShape[1];
        var batch = image.Batch;
        var kpAll = batch.Keypoints ?? throw new ArgumentException($"{batch.Files[image.Index]}: pose validation needs the batch's keypoints (load the data with its kpt_shape)");
        int n = (int)image.Detections.shape[0], m = image.GtClasses.Length;
        var (rw, rh, pw, ph) = batch.RatioPad[image.Index];
        int h = image.InputHeight, w = image.InputWidth;
        var det = n == 0 ? Array.Empty<float>() : TensorArrays.Floats(image.Detections);
        int width = n == 0 ? 0 : (int)image.Detections.shape[1];
        var pred = new float[n * k * 3];
        for (int i = 0; i < n; i++)
            for (int q = 0; q < k; q++)
            {
                int s = i * width + 6 + q * d, o = (i * k + q) * 3;
                pred[o] = (float)((det[s] - pw) / rw);
                pred[o + 1] = (float)((det[s + 1] - ph) / rh);
                pred[o + 2] = d == 3 ? det[s + 2] : 1;
            }
        var gt = new float[m * k * 3];
        var areas = new float[m];
        if (m > 0)
        {
            using var scope = NewDisposeScope();
            var rows = kpAll.index_select(0, tensor(image.GtRows.Select(r => (long)r).ToArray(), device: kpAll.device));
            var g = TensorArrays.Floats(rows);
            for (int j = 0; j < m * k; j++)
            {
                gt[j * 3] = (float)((g[j * 3] * w - pw) / rw);
                gt[j * 3 + 1] = (float)((g[j * 3 + 1] * h - ph) / rh);
                gt[j * 3 + 2] = g[j * 3 + 2];
            }
            for (int j = 0; j < m; j++)
                areas[j] = (float)(image.GtBoxes[j * 4 + 2] * w / rw * (image.GtBoxes[j * 4 + 3] * h / rh) * KeypointOks.AreaFactor);
        }
        PoseMetrics.UpdateIou(image.Original, KeypointOks.Matrix(pred, gt, areas, _sigmas, k), image.GtClasses);

        if (image.PlotPredictions is { } plotPred && image.PlotLabels is { } plotLabels)
        {
            // The tiles show the model input: keypoints in its pixels (the letterbox not undone).
            var input = new float[n][];
            for (int i = 0; i < n; i++)
            {
                input[i] = new float[k * 3];
                for (int q = 0; q < k; q++)
                {
                    int s = i * width + 6 + q * d;
                    input[i][q * 3] = det[s]; input[i][q * 3 + 1] = det[s + 1]; input[i][q * 3 + 2] = d == 3 ? det[s + 2] : 1;
                }
            }
            plotPred[image.Index] = plotPred[image.Index] with { Keypoints = input };
            plotLabels[image.Index] = Plotting.BatchGrid.Labels(batch, image.Index, Runtime.TensorArrays.Floats(batch.BatchIdx), Runtime.TensorArrays.Floats(batch.Cls),
                Runtime.TensorArrays.Floats(batch.Bboxes));
        }
    }
}
