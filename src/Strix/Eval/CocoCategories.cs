namespace Strix.Eval;

/// <summary>
/// The COCO detection classes: the 80 names YOLO models use (ids 0–79) and the original COCO
/// category ids (1–90 with gaps) that COCO json files and pycocotools expect.
/// </summary>
public static class CocoCategories
{
    /// <summary>The 80 COCO class names in YOLO order.</summary>
    public static IReadOnlyList<string> Names => Data.CocoNames.All;

    /// <summary>COCO category id of each of the 80 classes (the 80→91 mapping).</summary>
    public static IReadOnlyList<int> Coco80To91 { get; } = new[]
    {
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
        22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
        46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
        67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
    };

    /// <summary>True when the class names are COCO's 80 in order (case-insensitive), so predictions should use COCO category ids.</summary>
    public static bool IsCoco(IReadOnlyList<string> names) =>
        names.Count == Names.Count && names.Zip(Names).All(p => string.Equals(p.First.Trim(), p.Second, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The category id written for each class: the COCO ids for COCO class lists, otherwise 1…nc
    /// (COCO category ids start at 1; Ultralytics does the same).
    /// </summary>
    public static IReadOnlyList<int> CategoryIdsFor(IReadOnlyList<string> names) =>
        IsCoco(names) ? Coco80To91 : Enumerable.Range(1, names.Count).ToArray();
}
