import { moduleChoices, type ModuleChoice } from '../adapter-settings.ts';
import { useStore } from '../store.ts';
import { plainModuleName } from './module-names.ts';

const GROUPS: { group: ModuleChoice['group']; title: string }[] = [
  { group: 'attention', title: 'Attention (how words look at each other)' },
  { group: 'mlp', title: 'MLP (what each word turns into)' },
];

/** Checkboxes for the target modules, grouped as attention and MLP. */
export function ModulePicker() {
  const config = useStore((s) => s.modelConfig);
  const targets = useStore((s) => s.adapterSettings.adapter.targets);
  const toggleTarget = useStore((s) => s.toggleTarget);
  const choices = moduleChoices(config);
  const checked = (id: string) => targets === 'all-linear' || targets.includes(id);
  return (
    <fieldset className="module-picker">
      <legend>Parts of each layer to adapt (target modules)</legend>
      <div className="module-groups">
        {GROUPS.map(({ group, title }) => (
          <fieldset key={group} className="module-group">
            <legend>{title}</legend>
            {choices
              .filter((c) => c.group === group)
              .map((c) => (
                <div key={c.id} className="check">
                  <input id={`target-${c.id}`} type="checkbox" checked={checked(c.id)} onChange={() => toggleTarget(c.id)} />
                  <label htmlFor={`target-${c.id}`}>
                    {plainModuleName(c.id)} ({c.id})
                  </label>
                </div>
              ))}
          </fieldset>
        ))}
      </div>
    </fieldset>
  );
}
