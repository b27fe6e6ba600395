using SkiaSharp;
using Strix.Data;
using Strix.Plotting;

namespace Strix.Inference.Tracking;

/// <summary>
/// Applies a tracker to a stream of <see cref="Results"/>: the detections it confirms come back with their
/// track ids and filtered boxes (unconfirmed ones are left out, as Ultralytics does) and, from a segmentation model,
/// their masks; the recent centres of
/// each track are kept so the drawn video can show short trails. Results from a new source (another video or
/// image) start the tracker afresh unless <see cref="Persist"/>.
/// </summary>
public sealed class ResultsTracker : IDisposable
{
    /// <summary>Disposes the tracker it wraps.</summary>
    public void Dispose() => Tracker.Dispose();

    readonly Dictionary<int, List<SKPoint>> _trails = new();
    readonly int _trailLength;

    public ResultsTracker(IObjectTracker tracker, int trailLength = 30)
    {
        Tracker = tracker;
        _trailLength = Math.Max(0, trailLength);
    }

    public IObjectTracker Tracker { get; }

    /// <summary>Keep tracks and ids across sources (Ultralytics' <c>persist</c>); otherwise each new source resets.</summary>
    public bool Persist { get; init; }

    string? _source;
    bool _started;

    /// <summary>Recent box centres per live track id, oldest first.</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<SKPoint>> Trails => _trails.ToDictionary(k => k.Key, k => (IReadOnlyList<SKPoint>)k.Value);

    /// <summary>Tracks one frame's results.</summary>
    public Results Track(Results frame)
    {
        if (_started && !Persist && frame.Path != _source) Reset();
        _started = true;
        _source = frame.Path;
        var tracked = Tracker.Update(frame.Detections, frame.OrigImage);
        var ordered = tracked.OrderByDescending(t => t.Confidence).ToList();
        var detections = ordered.Select(t =>
        {
            var d = frame.Detections[t.DetectionIndex];
            return new Detection(Clip(t.Box, frame.OrigWidth, frame.OrigHeight), t.Confidence, t.ClassId, d.ClassName) { TrackId = t.TrackId };
        }).ToList();
        // A segmentation model's masks, a pose model's keypoints and an OBB model's rotated boxes follow their detections
        // (those of the detection each track took).
        var taken = ordered.Select(t => t.DetectionIndex).ToList();
        var masks = frame.Masks?.Select(taken);
        var keypoints = frame.Keypoints?.Select(taken);
        var rotated = frame.OrientedBoxes is { } obbs ? taken.Select(i => obbs[i]).ToList() : null;
        var live = new HashSet<int>();
        foreach (var d in detections)
        {
            int id = d.TrackId!.Value;
            live.Add(id);
            if (!_trails.TryGetValue(id, out var trail)) _trails[id] = trail = new List<SKPoint>();
            trail.Add(new SKPoint(d.Box.CenterX, d.Box.CenterY));
            if (trail.Count > _trailLength) trail.RemoveAt(0);
        }
        foreach (var id in _trails.Keys.Where(k => !live.Contains(k)).ToList()) _trails.Remove(id);
        return frame.WithDetections(detections, masks, keypoints, rotated);
    }

    /// <summary>Forgets all tracks (ids start again from 1).</summary>
    public void Reset()
    {
        Tracker.Reset();
        _trails.Clear();
    }

    /// <summary>The frame with boxes, "id:N class conf" labels and each track's trail drawn.</summary>
    public RgbImage Plot(Results tracked, IEnumerable<string>? caption = null, IReadOnlyList<(double X, double Y)>? region = null)
    {
        var drawn = tracked.Plot();
        using var bmp = ImageIO.ToBitmap(drawn);
        foreach (var d in tracked.Detections)
            if (d.TrackId is int id && _trails.TryGetValue(id, out var trail))
                Annotator.DrawPolyline(bmp, trail, Annotator.ColorFor(d.ClassId));
        if (region is { Count: >= 2 })
            Annotator.DrawPolyline(bmp, region.Select(p => new SKPoint((float)p.X, (float)p.Y)).ToList(), new SKColor(255, 64, 160), closed: region.Count > 2);
        if (caption is not null) Annotator.DrawCaption(bmp, caption.ToList());
        return ImageIO.FromBitmap(bmp);
    }

    static BoundingBox Clip(BoundingBox b, int w, int h) =>
        new(Math.Clamp(b.X1, 0, w), Math.Clamp(b.Y1, 0, h), Math.Clamp(b.X2, 0, w), Math.Clamp(b.Y2, 0, h));
}
