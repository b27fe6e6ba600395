namespace Strix.Models.Import;

/// <summary>
/// What an import did: how many of our tensors were filled, which source tensors had no place in our
/// model (<see cref="Unmapped"/>) and which of our tensors the source did not provide
/// (<see cref="Missing"/>: those keep their fresh initialisation). Nothing is dropped silently.
/// </summary>
public sealed record ImportReport(
    string Source,
    int Loaded,
    IReadOnlyList<string> Unmapped,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Notes)
{
    /// <summary>True when every source tensor was used and every model tensor was filled.</summary>
    public bool Complete => Unmapped.Count == 0 && Missing.Count == 0;

    /// <summary>One line in Ultralytics' wording ("Transferred 355/355 items from …").</summary>
    public string Summary => $"Transferred {Loaded}/{Loaded + Missing.Count} items from {Path.GetFileName(Source)}"
        + (Unmapped.Count > 0 ? $"; {Unmapped.Count} source tensor(s) unmapped" : "");

    /// <summary>The summary, then the unmapped and missing names and the notes, one per line.</summary>
    public override string ToString()
    {
        var lines = new List<string> { Summary };
        if (Unmapped.Count > 0) lines.Add("  unmapped: " + StateDictTransfer.Preview(Unmapped, 20));
        if (Missing.Count > 0) lines.Add("  not provided (fresh init): " + StateDictTransfer.Preview(Missing, 20));
        lines.AddRange(Notes.Select(n => "  note: " + n));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>A model brought in from another format, its metadata and the report of the transfer.</summary>
public sealed record ImportedModel(DetectionModel Model, ModelMetadata Metadata, ImportReport Report);
