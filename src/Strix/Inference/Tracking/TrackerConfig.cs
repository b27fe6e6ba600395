using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Strix.Inference.Tracking;

/// <summary>
/// A tracker's settings, read from Ultralytics' tracker YAML (<c>bytetrack.yaml</c>, <c>botsort.yaml</c>, or
/// a user's file with the same keys). The defaults are those of Ultralytics 8.3's <c>bytetrack.yaml</c>.
/// </summary>
public sealed record TrackerConfig
{
    /// <summary><c>bytetrack</c> or <c>botsort</c>.</summary>
    public string TrackerType { get; init; } = "bytetrack";
    /// <summary>Detections at or above this score take part in the first association.</summary>
    public double TrackHighThresh { get; init; } = 0.25;
    /// <summary>Detections above this (and below the high threshold) take part in the second association.</summary>
    public double TrackLowThresh { get; init; } = 0.1;
    /// <summary>An unmatched detection starts a track only at or above this score.</summary>
    public double NewTrackThresh { get; init; } = 0.25;
    /// <summary>Frames (at 30 fps) a lost track is kept for re-identification.</summary>
    public int TrackBuffer { get; init; } = 30;
    /// <summary>Largest matching cost (1 − IoU, fused with the score) accepted in the first association.</summary>
    public double MatchThresh { get; init; } = 0.8;
    /// <summary>Multiply IoU by the detection score before matching.</summary>
    public bool FuseScore { get; init; } = true;
    /// <summary>BoT-SORT: camera-motion compensation, <c>sparseOptFlow</c> or <c>none</c> (orb, sift and ecc are reported and run as sparseOptFlow).</summary>
    public string GmcMethod { get; init; } = "sparseOptFlow";
    /// <summary>BoT-SORT with ReID (not implemented: must be false).</summary>
    public bool WithReid { get; init; }
    public double ProximityThresh { get; init; } = 0.5;
    public double AppearanceThresh { get; init; } = 0.8;

    /// <summary>ByteTrack's defaults.</summary>
    public static TrackerConfig ByteTrack => new();
    /// <summary>BoT-SORT's defaults (Ultralytics' botsort.yaml: sparse optical-flow camera-motion compensation, no ReID).</summary>
    public static TrackerConfig BotSort => new() { TrackerType = "botsort" };

    /// <summary>
    /// <c>bytetrack.yaml</c> / <c>botsort.yaml</c> (built in, or a file of that name when one exists) or a path to a
    /// tracker YAML file. Unknown keys and bad values name the file and the line.
    /// </summary>
    public static TrackerConfig Load(string nameOrPath)
    {
        if (File.Exists(nameOrPath)) return Parse(File.ReadAllText(nameOrPath), nameOrPath);
        var key = Path.GetFileNameWithoutExtension(nameOrPath).ToLowerInvariant();
        if (Path.GetDirectoryName(nameOrPath) is "" or null)
        {
            if (key == "bytetrack") return ByteTrack;
            if (key == "botsort") return BotSort;
        }
        throw new FileNotFoundException($"tracker={nameOrPath}: not found (built in: bytetrack.yaml, botsort.yaml, or a path to a tracker YAML file)", nameOrPath);
    }

    /// <summary>Reads the YAML text of a tracker file; <paramref name="source"/> names it in errors.</summary>
    public static TrackerConfig Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlDotNet.Core.YamlException e) { throw new InvalidDataException($"{source}:{e.Start.Line}: not valid YAML: {e.Message}"); }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map)
            throw new InvalidDataException($"{source}: expected a mapping of tracker settings (tracker_type: bytetrack, …)");
        var c = new TrackerConfig();
        foreach (var (k, v) in map.Children)
        {
            var name = ((YamlScalarNode)k).Value ?? "";
            var line = k.Start.Line;
            string text = v is YamlScalarNode s ? s.Value ?? "" : throw new InvalidDataException($"{source}:{line}: {name} must be a single value");
            string Where() => $"{source}:{line}: {name}={text}";
            double Num(double lo, double hi)
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || d < lo || d > hi)
                    throw new InvalidDataException($"{Where()}: expected a number in [{lo}, {hi}]");
                return d;
            }
            bool Flag() => text.ToLowerInvariant() switch
            {
                "true" or "yes" or "1" => true,
                "false" or "no" or "0" => false,
                _ => throw new InvalidDataException($"{Where()}: expected true or false"),
            };
            c = name switch
            {
                "tracker_type" => text.ToLowerInvariant() is "bytetrack" or "botsort" ? c with { TrackerType = text.ToLowerInvariant() }
                    : throw new InvalidDataException($"{Where()}: expected bytetrack or botsort"),
                "track_high_thresh" => c with { TrackHighThresh = Num(0, 1) },
                "track_low_thresh" => c with { TrackLowThresh = Num(0, 1) },
                "new_track_thresh" => c with { NewTrackThresh = Num(0, 1) },
                "track_buffer" => c with { TrackBuffer = (int)Num(0, 100_000) },
                "match_thresh" => c with { MatchThresh = Num(0, 1) },
                "fuse_score" => c with { FuseScore = Flag() },
                "gmc_method" => c with { GmcMethod = text },
                "proximity_thresh" => c with { ProximityThresh = Num(0, 1) },
                "appearance_thresh" => c with { AppearanceThresh = Num(0, 1) },
                "with_reid" => c with { WithReid = Flag() },
                "model" => c, // the ReID model of newer botsort.yaml files; used only with with_reid
                _ => throw new InvalidDataException($"{source}:{line}: unknown tracker setting '{name}' (known: tracker_type, track_high_thresh, track_low_thresh, new_track_thresh, track_buffer, match_thresh, fuse_score, gmc_method, proximity_thresh, appearance_thresh, with_reid)"),
            };
        }
        if (c.TrackLowThresh > c.TrackHighThresh)
            throw new InvalidDataException($"{source}: track_low_thresh={c.TrackLowThresh} is above track_high_thresh={c.TrackHighThresh}");
        if (c.WithReid)
            throw new NotSupportedException($"{source}: with_reid=true is not supported yet (BoT-SORT runs on motion and IoU only; set with_reid: false)");
        return c;
    }
}
