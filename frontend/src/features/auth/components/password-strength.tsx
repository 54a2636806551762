import { passwordStrength } from '@/features/auth/utils/validation';

const colors = ['bg-slate-300', 'bg-red-500', 'bg-amber-500', 'bg-lime-500', 'bg-green-600'];

export function PasswordStrength({ password }: { password: string }) {
  const { score, label } = passwordStrength(password);
  return (
    <div className="flex items-center gap-2">
      <div
        role="meter"
        aria-label="Password strength"
        aria-valuemin={0}
        aria-valuemax={4}
        aria-valuenow={score}
        aria-valuetext={label}
        className="flex flex-1 gap-1"
      >
        {[1, 2, 3, 4].map((i) => (
          <span key={i} className={`h-1.5 flex-1 rounded-full ${password && i <= Math.max(score, 1) ? colors[score] : 'bg-slate-200'}`} />
        ))}
      </div>
      <span className="w-20 text-right text-xs text-slate-600" aria-hidden="true">
        {password ? label : ''}
      </span>
    </div>
  );
}
