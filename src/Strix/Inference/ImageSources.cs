namespace Strix.Inference;

/// <summary>Expands a prediction source (file, folder, or glob pattern) into image paths.</summary>
public static class ImageSources
{
    /// <summary>
    /// A file gives itself; a folder gives its images (sorted); a pattern with * or ? gives the matching
    /// files. A missing path raises <see cref="FileNotFoundException"/> naming it.
    /// </summary>
    public static IReadOnlyList<string> Expand(string source)
    {
        if (File.Exists(source)) return new[] { source };
        if (Directory.Exists(source))
            return Directory.EnumerateFiles(source).Where(Data.ImageIO.IsImageFile).OrderBy(p => p, StringComparer.Ordinal).ToList();
        if (source.IndexOfAny(new[] { '*', '?' }) >= 0)
        {
            var dir = Path.GetDirectoryName(source);
            if (string.IsNullOrEmpty(dir)) dir = ".";
            var pattern = Path.GetFileName(source);
            if (dir.IndexOfAny(new[] { '*', '?' }) >= 0) throw new ArgumentException($"source '{source}': wildcards are only supported in the file name");
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"source '{source}': folder '{dir}' not found");
            var recursive = pattern.Contains("**");
            return Directory.EnumerateFiles(dir, pattern.Replace("**", "*"), recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
                .OrderBy(p => p, StringComparer.Ordinal).ToList();
        }
        throw new FileNotFoundException($"source '{source}' not found (expected an image file, a folder or a glob pattern)", source);
    }
}
