using Strix.Data;
using Strix.Eval;
using Strix.Inference.Sources;

namespace Strix.Inference.Tracking;

/// <summary>A tracked object in one frame: its id, the filtered box, and the detection it came from.</summary>
public readonly record struct TrackedObject(int TrackId, BoundingBox Box, float Confidence, int ClassId, int DetectionIndex);

/// <summary>Follows detections across the frames of one video; <see cref="Reset"/> starts afresh.</summary>
public interface IObjectTracker : IDisposable
{
    /// <summary>
    /// Takes one frame's detections (in order) and returns the confirmed tracks seen in it. The frame itself is
    /// used by trackers that compensate camera motion; others ignore it.
    /// </summary>
    IReadOnlyList<TrackedObject> Update(IReadOnlyList<Detection> detections, RgbImage? frame = null);
    /// <summary>Forgets every track; ids start from 1 again.</summary>
    void Reset();
}

/// <summary>
/// ByteTrack (Zhang et al., 2022): associate confident detections with all live tracks first, then give the
/// still-unmatched tracked objects a second chance with the low-score detections (objects that are partly
/// hidden score low but are still there), confirm new tracks on their second match, and keep lost tracks for
/// <c>track_buffer</c> frames so an object that reappears keeps its id. With <c>tracker_type: botsort</c> the
/// same association runs on a (cx, cy, w, h) Kalman state with the tracks moved by the camera's own motion
/// (<see cref="CameraMotion"/>) before matching, as BoT-SORT does without ReID.
/// </summary>
public sealed class ByteTracker : IObjectTracker
{
    /// <summary>Releases the camera-motion estimator's last frame (native OpenCV memory).</summary>
    public void Dispose() => _gmc?.Dispose();

    readonly TrackerConfig _cfg;
    readonly KalmanBoxFilter _kf;
    readonly int _maxTimeLost;
    List<Track> _tracked = new(), _lost = new();
    readonly CameraMotion? _gmc;
    readonly Action<string> _warn;
    bool _warnedNoFrame;
    int _frameId, _nextId = 1;

    /// <param name="config">Thresholds and buffer, as in Ultralytics' tracker YAML.</param>
    /// <param name="frameRate">Frames per second the buffer is scaled to (Ultralytics uses 30).</param>
    /// <param name="warn">Where settings that are accepted but not applied are reported.</param>
    public ByteTracker(TrackerConfig? config = null, double frameRate = 30, Action<string>? warn = null)
    {
        _cfg = config ?? TrackerConfig.ByteTrack;
        if (_cfg.WithReid) throw new NotSupportedException("BoT-SORT with ReID is not supported yet (with_reid must be false)");
        _kf = new KalmanBoxFilter(_cfg.TrackerType == "botsort" ? BoxStateForm.Xywh : BoxStateForm.Xyah);
        _maxTimeLost = (int)(frameRate / 30.0 * _cfg.TrackBuffer);
        var say = _warn = warn ?? Console.Error.WriteLine;
        var gmc = _cfg.GmcMethod.ToLowerInvariant();
        if (_cfg.TrackerType == "botsort" && gmc != "none")
        {
            if (gmc is not "sparseoptflow")
                say($"WARNING ⚠️ gmc_method={_cfg.GmcMethod} is not implemented; using sparseOptFlow");
            if (OpenCv.IsAvailable) _gmc = new CameraMotion();
            else say($"WARNING ⚠️ gmc_method={_cfg.GmcMethod}: camera-motion compensation needs OpenCV, which did not load ({OpenCv.UnavailableReason}); tracking without it");
        }
    }

    public TrackerConfig Config => _cfg;

    /// <summary>Frames seen since the last reset.</summary>
    public int FrameCount => _frameId;

    /// <summary>Tracks currently followed (confirmed or not) and lost ones still kept for re-identification.</summary>
    public IReadOnlyList<Track> Tracks => _tracked.Concat(_lost).ToList();

    /// <summary>True when tracks are moved by the estimated camera motion before matching.</summary>
    public bool CompensatesCameraMotion => _gmc is not null;

    public void Reset()
    {
        _tracked = new(); _lost = new(); _frameId = 0; _nextId = 1;
        _gmc?.Reset();
    }

    public IReadOnlyList<TrackedObject> Update(IReadOnlyList<Detection> detections, RgbImage? frame = null)
    {
        _frameId++;
        var activated = new List<Track>();
        var refound = new List<Track>();
        var newlyLost = new List<Track>();
        var removed = new List<Track>();

        var high = new List<Track>();
        var low = new List<Track>();
        for (int i = 0; i < detections.Count; i++)
        {
            var d = detections[i];
            var t = new Track(d.Box, d.Confidence, d.ClassId, i);
            if (d.Confidence >= _cfg.TrackHighThresh) high.Add(t);
            else if (d.Confidence > _cfg.TrackLowThresh) low.Add(t);
        }

        var unconfirmed = _tracked.Where(t => !t.IsActivated).ToList();
        var confirmed = _tracked.Where(t => t.IsActivated).ToList();
        var pool = Union(confirmed, _lost);
        foreach (var t in pool) t.Predict(_kf);
        if (_gmc is not null && frame is null && !_warnedNoFrame)
        {
            _warnedNoFrame = true;
            _warn("WARNING ⚠️ BoT-SORT camera-motion compensation needs the frames, but this update has none (PredictOptions.KeepImages=false?); tracking without it while frames are missing");
        }
        if (_gmc is not null && frame is not null)
        {
            var warp = _gmc.Estimate(frame);
            foreach (var t in pool.Concat(unconfirmed)) t.ApplyCameraMotion(warp);
        }

        // 1. Confident detections against every live or lost track.
        var first = LinearAssignment.Solve(Cost(pool, high, _cfg.FuseScore), _cfg.MatchThresh);
        foreach (var (ti, di) in first.Matches) Take(pool[ti], high[di], activated, refound);

        // 2. Low-score detections against the tracked objects still unmatched.
        var remaining = first.UnmatchedRows.Select(i => pool[i]).Where(t => t.State == TrackState.Tracked).ToList();
        var second = LinearAssignment.Solve(Cost(remaining, low, fuse: false), 0.5);
        foreach (var (ti, di) in second.Matches) Take(remaining[ti], low[di], activated, refound);
        foreach (var ti in second.UnmatchedRows)
        {
            var t = remaining[ti];
            if (t.State != TrackState.Lost) { t.MarkLost(); newlyLost.Add(t); }
        }

        // 3. Tracks born last frame take a confirming match from what is left, or are dropped.
        var leftHigh = first.UnmatchedCols.Select(i => high[i]).ToList();
        var third = LinearAssignment.Solve(Cost(unconfirmed, leftHigh, _cfg.FuseScore), 0.7);
        foreach (var (ti, di) in third.Matches) { unconfirmed[ti].Update(_kf, leftHigh[di], _frameId); activated.Add(unconfirmed[ti]); }
        foreach (var ti in third.UnmatchedRows) { unconfirmed[ti].MarkRemoved(); removed.Add(unconfirmed[ti]); }

        // 4. New tracks from confident detections nobody took.
        foreach (var di in third.UnmatchedCols)
        {
            var t = leftHigh[di];
            if (t.Score < _cfg.NewTrackThresh) continue;
            t.Activate(_kf, _frameId, _nextId++);
            activated.Add(t);
        }

        // 5. Book-keeping: lost tracks expire; tracked and lost lists stay disjoint and free of duplicates.
        foreach (var t in _lost)
            if (_frameId - t.FrameId > _maxTimeLost) { t.MarkRemoved(); removed.Add(t); }
        _tracked = Union(Union(_tracked.Where(t => t.State == TrackState.Tracked).ToList(), activated), refound);
        var trackedSet = _tracked.ToHashSet();
        var removedSet = removed.ToHashSet();
        _lost = _lost.Where(t => !trackedSet.Contains(t)).Concat(newlyLost).Where(t => !removedSet.Contains(t) && t.State != TrackState.Removed).Distinct().ToList();
        RemoveDuplicates();

        return _tracked.Where(t => t.IsActivated)
            .Select(t => new TrackedObject(t.Id, t.Box(_kf), t.Score, t.ClassId, t.DetectionIndex)).ToList();
    }

    void Take(Track track, Track detection, List<Track> activated, List<Track> refound)
    {
        if (track.State == TrackState.Tracked) { track.Update(_kf, detection, _frameId); activated.Add(track); }
        else { track.Reactivate(_kf, detection, _frameId); refound.Add(track); }
    }

    double[,] Cost(IReadOnlyList<Track> tracks, IReadOnlyList<Track> dets, bool fuse)
    {
        var cost = TrackMatching.IouDistance(tracks.Select(t => t.Box(_kf)).ToList(), dets.Select(d => d.DetectedBox).ToList());
        if (fuse) TrackMatching.FuseScore(cost, dets.Select(d => d.Score).ToList());
        return cost;
    }

    // A tracked and a lost track on the same spot (IoU > 0.85) are one object: keep the older one.
    void RemoveDuplicates()
    {
        if (_tracked.Count == 0 || _lost.Count == 0) return;
        var dist = TrackMatching.IouDistance(_tracked.Select(t => t.Box(_kf)).ToList(), _lost.Select(t => t.Box(_kf)).ToList());
        var dropTracked = new HashSet<Track>();
        var dropLost = new HashSet<Track>();
        for (int i = 0; i < _tracked.Count; i++)
            for (int j = 0; j < _lost.Count; j++)
            {
                if (dist[i, j] >= 0.15) continue;
                int ageTracked = _tracked[i].FrameId - _tracked[i].StartFrame, ageLost = _lost[j].FrameId - _lost[j].StartFrame;
                if (ageTracked > ageLost) dropLost.Add(_lost[j]); else dropTracked.Add(_tracked[i]);
            }
        _tracked = _tracked.Where(t => !dropTracked.Contains(t)).ToList();
        _lost = _lost.Where(t => !dropLost.Contains(t)).ToList();
    }

    // Keeps a's order and appends b's tracks whose ids a lacks (ByteTrack's joint_stracks).
    static List<Track> Union(List<Track> a, List<Track> b)
    {
        var seen = a.Select(t => t.Id).ToHashSet();
        var result = new List<Track>(a);
        foreach (var t in b) if (seen.Add(t.Id)) result.Add(t);
        return result;
    }
}
