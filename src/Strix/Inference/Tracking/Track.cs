namespace Strix.Inference.Tracking;

/// <summary>Life cycle of a track: ByteTrack's states.</summary>
public enum TrackState { New, Tracked, Lost, Removed }

/// <summary>
/// One object followed from frame to frame: its Kalman state, id, last score and class. A track born after
/// the first frame is reported only once a second detection confirms it.
/// </summary>
public sealed class Track
{
    internal Track(BoundingBox box, float score, int classId, int detectionIndex)
    {
        DetectedBox = box; Score = score; ClassId = classId; DetectionIndex = detectionIndex;
    }

    /// <summary>0 until activated; then unique within its tracker, counting from 1.</summary>
    public int Id { get; private set; }
    public TrackState State { get; private set; } = TrackState.New;
    /// <summary>Confirmed: born on the first frame or matched at least once after birth.</summary>
    public bool IsActivated { get; private set; }
    public float Score { get; private set; }
    public int ClassId { get; private set; }
    /// <summary>Index of the detection this track last took, in that frame's detection list.</summary>
    public int DetectionIndex { get; private set; }
    public int StartFrame { get; private set; }
    /// <summary>The last frame this track was matched in.</summary>
    public int FrameId { get; private set; }
    /// <summary>Matches since the last (re)activation.</summary>
    public int TrackletLength { get; private set; }

    internal KalmanState? Kalman { get; private set; }
    internal BoundingBox DetectedBox { get; private set; }

    /// <summary>The filtered box (the detection itself until a filter exists).</summary>
    public BoundingBox Box(KalmanBoxFilter filter) => Kalman is null ? DetectedBox : filter.ToBox(Kalman.Mean);

    internal void Activate(KalmanBoxFilter filter, int frameId, int id)
    {
        Id = id;
        Kalman = filter.Initiate(filter.Measure(DetectedBox));
        TrackletLength = 0;
        State = TrackState.Tracked;
        IsActivated = frameId == 1;
        FrameId = StartFrame = frameId;
    }

    internal void Update(KalmanBoxFilter filter, Track detection, int frameId)
    {
        FrameId = frameId;
        TrackletLength++;
        Take(filter, detection);
    }

    internal void Reactivate(KalmanBoxFilter filter, Track detection, int frameId)
    {
        FrameId = frameId;
        TrackletLength = 0;
        Take(filter, detection);
    }

    void Take(KalmanBoxFilter filter, Track detection)
    {
        filter.Update(Kalman!, filter.Measure(detection.DetectedBox));
        DetectedBox = detection.DetectedBox;
        State = TrackState.Tracked;
        IsActivated = true;
        Score = detection.Score; ClassId = detection.ClassId; DetectionIndex = detection.DetectionIndex;
    }

    internal void Predict(KalmanBoxFilter filter)
    {
        if (Kalman is null) return;
        // A track not seen last frame keeps its position velocity but stops growing or shrinking.
        if (State != TrackState.Tracked)
        {
            Kalman.Mean[7] = 0;
            if (filter.Form == BoxStateForm.Xywh) Kalman.Mean[6] = 0;
        }
        filter.Predict(Kalman);
    }

    internal void ApplyCameraMotion(double[,] affine)
    {
        if (Kalman is not null) KalmanBoxFilter.ApplyCameraMotion(Kalman, affine);
    }

    internal void MarkLost() => State = TrackState.Lost;
    internal void MarkRemoved() => State = TrackState.Removed;
}
