namespace Strix.Data;

/// <summary>
/// Decides whether caches may be written into a dataset folder. Permission bits are honoured even
/// for root (who could write anyway), so a folder someone made read-only stays untouched.
/// </summary>
internal static class FolderAccess
{
    public static bool IsWritable(string dir)
    {
        if (!Directory.Exists(dir)) return false;
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(dir);
            if ((mode & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0) return false;
        }
        return true;
    }
}
