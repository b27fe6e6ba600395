namespace Strix.Inference;

/// <summary>Prediction settings, with Ultralytics' names and defaults.</summary>
public sealed record PredictOptions
{
    /// <summary>The confidence prediction uses when <see cref="Conf"/> is not set.</summary>
    public const double DefaultConf = 0.25;
    /// <summary>
    /// The confidence tracking uses when <see cref="Conf"/> is not set (Ultralytics' <c>track</c>), so the tracker's
    /// second association sees the low-score detections it uses.
    /// </summary>
    public const double TrackingConf = 0.1;

    /// <summary>The defaults for tracking: confidence <see cref="TrackingConf"/>.</summary>
    public static PredictOptions ForTracking => new() { Conf = TrackingConf };

    /// <summary>
    /// Minimum confidence of a reported detection; null: <see cref="DefaultConf"/> for prediction, <see cref="TrackingConf"/>
    /// for tracking (so <c>Track(source, new PredictOptions { ImgSz = 320 })</c> still tracks at 0.1, as Ultralytics).
    /// </summary>
    public double? Conf { get; init; }

    /// <summary>The confidence in effect for prediction.</summary>
    public double PredictConf => Conf ?? DefaultConf;

    /// <summary>These options for tracking: <see cref="TrackingConf"/> unless a confidence was set.</summary>
    public PredictOptions ForTrack() => Conf is null ? this with { Conf = TrackingConf } : this;

    /// <summary>NMS IoU threshold.</summary>
    public double Iou { get; init; } = 0.7;
    /// <summary>Model input size (square; images are letterboxed into it). Null: the model's own.</summary>
    public int? ImgSz { get; init; }
    public int MaxDet { get; init; } = 300;
    /// <summary>Keep only these class ids.</summary>
    public int[]? Classes { get; init; }
    /// <summary>Class-agnostic NMS.</summary>
    public bool Agnostic { get; init; }
    /// <summary>Images per forward pass.</summary>
    public int Batch { get; init; } = 1;
    /// <summary>Keep every n-th frame of a video or stream (Ultralytics' <c>vid_stride</c>).</summary>
    public int VidStride { get; init; } = 1;
    /// <summary>Live sources: queue every frame instead of keeping only the newest when inference falls behind.</summary>
    public bool StreamBuffer { get; init; }
    /// <summary>Keep each decoded source image in its <see cref="Results"/> so it can be drawn.</summary>
    public bool KeepImages { get; init; } = true;
}
