import { InlineNameField } from '@/components/ui/inline-name-field';
import { useToast } from '@/components/ui/toast';
import { useRenameFile } from '@/features/files/api/rename-file';
import type { FileObject } from '@/features/files/types';

// FileName is the file's name, or while it is being renamed a field
// holding the new name: Enter or leaving the field saves, Escape cancels.
// A refused name stays in the field with the server's reason under it.
export function FileName({ file, renaming, onRenameDone }: { file: FileObject; renaming: boolean; onRenameDone: () => void }) {
  if (!renaming) return <>{file.original_filename}</>;
  return <RenameField file={file} onDone={onRenameDone} />;
}

function RenameField({ file, onDone }: { file: FileObject; onDone: () => void }) {
  const rename = useRenameFile();
  const { notify } = useToast();

  // mutate's own callbacks (not mutateAsync): they do not run once the field
  // is gone, so a rename finishing after that neither toasts nor ends it.
  const save = (name: string) =>
    new Promise<void>((resolve, reject) =>
      rename.mutate(
        { id: file.id, filename: name },
        {
          onSuccess: (f) => {
            notify('success', `Renamed ${file.original_filename} to ${f.original_filename}`);
            resolve();
          },
          onError: reject,
        },
      ),
    );

  return (
    <InlineNameField
      id={`rename-${file.id}`}
      label={`New name for ${file.original_filename}`}
      initial={file.original_filename}
      selectStem
      onSave={save}
      onDone={() => onDone()}
    />
  );
}
